// FlashMall H5 store and ops console. One hand-written module, no framework, no build step.
// Rules kept throughout: every piece of data reaches the page through textContent or an
// attribute set by the DOM (never innerHTML), the bearer token lives in localStorage and goes
// out only in the Authorization header, and every page works from its own URL (deep links).

const $ = (selector, root = document) => root.querySelector(selector);
const main = $('main[data-page]');
const page = main?.dataset.page ?? '';
const lang = document.documentElement.lang.startsWith('en') ? 'en' : 'zh';

const MESSAGES = {
  en: {
    live: 'Ends in', upcoming: 'Starts in', buy: 'Buy now', soon: 'Not started', reserved: 'Reserved! Creating your order…',
    ordered: 'Ordered! View order', released: 'The reservation was released.', sold_out: 'Sold out', limit_reached: 'You have reached the limit for this sale',
    not_started: 'Not started yet', ended: 'This sale has ended', try_later: 'Too busy, try again in a moment', remaining: 'left',
    login_first: 'Please log in first.', added: 'Added to cart.', view_cart: 'View cart', degraded: 'This part is paused while we are busy; flash sales still work.',
    invalid_credentials: 'Wrong login or password.', account_exists: 'That account already exists.', error: 'Something went wrong, try again.',
    coupon_not_applicable: 'This coupon does not apply to this order.', out_of_stock: 'Some items are out of stock.', coupons_exhausted: 'All coupons have been claimed.', not_claimable: 'This coupon cannot be claimed now.', read_only: 'The circle is read-only for a while.',
    risk_blocked: 'Not allowed for this account.', results: 'results', category: 'Category', brand: 'Brand', all: 'All', paying: 'Waiting for payment…',
    simulator: 'Payment simulator', simPay: 'Pay', simFail: 'Fail', paid: 'Paid', likes: 'likes', like: 'Like', posted: 'Posted.', none: 'Nothing here yet.',
    status_pending_payment: 'Waiting for payment', status_paid: 'Paid', status_shipped: 'Shipped', status_completed: 'Completed', status_cancelled: 'Cancelled',
    status_refunded: 'Refunded', coupon_unused: 'Unused', coupon_used: 'Used', coupon_expired: 'Expired', off: 'off', minSpend: 'min. spend', validTo: 'valid until',
    claimed: 'Coupon claimed.', enable: 'Turn on', disable: 'Turn off', approve: 'Approve', reason: 'Why?', applied: 'Applied.', pending: 'Waiting for another operator to approve.',
    replay: 'Replay', runNow: 'Run now', balanced: 'Balanced', unbalanced: 'Differences', created: 'Created', on: 'ON', off2: 'off', updated: 'Updated',
    needReason: 'Say why (it goes into the audit log).', forbidden: 'Your account may not do this.', live_s: 'live', upcoming_s: 'upcoming', ended_s: 'ended', addressSaved: 'Address saved.',
  },
  zh: {
    live: '距结束', upcoming: '距开始', buy: '立即抢购', soon: '未开始', reserved: '抢到了！正在生成订单…',
    ordered: '下单成功！查看订单', released: '名额已释放。', sold_out: '已抢光', limit_reached: '已达到本场限购数量',
    not_started: '秒杀尚未开始', ended: '秒杀已结束', try_later: '当前太火爆，请稍后再试', remaining: '件剩余',
    login_first: '请先登录。', added: '已加入购物车。', view_cart: '去购物车', degraded: '当前访问量大，此功能暂停；秒杀照常进行。',
    invalid_credentials: '账号或密码错误。', account_exists: '该账号已注册。', error: '出错了，请重试。',
    coupon_not_applicable: '该优惠券不适用于此订单。', out_of_stock: '部分商品库存不足。', coupons_exhausted: '优惠券已领完。', not_claimable: '该优惠券当前不可领取。', read_only: '圈子暂时只读。',
    risk_blocked: '该账号暂不能参与。', results: '件商品', category: '分类', brand: '品牌', all: '全部', paying: '等待支付结果…',
    simulator: '支付模拟器', simPay: '支付', simFail: '失败', paid: '已支付', likes: '赞', like: '点赞', posted: '发布成功。', none: '暂无内容。',
    status_pending_payment: '待支付', status_paid: '已支付', status_shipped: '已发货', status_completed: '已完成', status_cancelled: '已取消',
    status_refunded: '已退款', coupon_unused: '未使用', coupon_used: '已使用', coupon_expired: '已过期', off: '减', minSpend: '满', validTo: '有效期至',
    claimed: '领取成功。', enable: '打开', disable: '关闭', approve: '批准', reason: '原因', applied: '已生效。', pending: '等待另一位运营批准。',
    replay: '重放', runNow: '立即运行', balanced: '账平', unbalanced: '有差异', created: '已创建', on: '开', off2: '关', updated: '更新于',
    needReason: '请填写原因（会写入审计日志）。', forbidden: '你的账号无权执行此操作。', live_s: '进行中', upcoming_s: '未开始', ended_s: '已结束', addressSaved: '地址已保存。',
  },
};
const t = (key) => MESSAGES[lang][key] ?? MESSAGES.en[key] ?? key;

// ---------------------------------------------------------------- DOM helpers --

/** Builds an element; strings become text nodes, so data can never become markup. */
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

const money = (fen) => (fen === null || fen === undefined) ? '' : `¥${(fen / 100).toFixed(2)}`;
const fmtTime = (iso) => iso ? new Date(iso).toLocaleString(lang === 'en' ? 'en-GB' : 'zh-CN', { hour12: false }) : '';
const params = new URLSearchParams(location.search);

function notice(message, link) {
  const box = $('#notice');
  if (!box) return;
  box.replaceChildren(message, link ? ' ' : '', link ?? '');
  box.hidden = false;
}

function showError(problem, fallback = 'error') {
  const target = $('#error');
  const message = problemMessage(problem, fallback);
  if (target) target.textContent = message; else notice(message);
}

function problemMessage(problem, fallback = 'error') {
  const code = problem?.code;
  if (code && MESSAGES.en[code]) return t(code);
  if (problem?.status === 403) return t('forbidden');
  if (problem?.errors) return Object.values(problem.errors).flat().join(' ');
  return problem?.detail || t(fallback);
}

/** A random id for Idempotency-Key (crypto.randomUUID needs a secure context; this does not). */
function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// ---------------------------------------------------------------- server time --

// The page carries the server's clock at render time; every API answer's Date header
// corrects it when the two drift apart by more than a second (the header has 1 s resolution).
let clockOffset = Number($('meta[name="server-time"]')?.content ?? Date.now()) - Date.now();
const serverNow = () => Date.now() + clockOffset;
function learnClock(response) {
  const date = Date.parse(response.headers.get('Date') ?? '');
  if (!Number.isNaN(date) && Math.abs(date + 500 - serverNow()) > 1000) clockOffset = date + 500 - Date.now();
}

// ---------------------------------------------------------------- session and API --

const session = {
  get access() { return localStorage.getItem('fm.access'); },
  get refresh() { return localStorage.getItem('fm.refresh'); },
  save(tokens) { localStorage.setItem('fm.access', tokens.accessToken); localStorage.setItem('fm.refresh', tokens.refreshToken); },
  clear() { localStorage.removeItem('fm.access'); localStorage.removeItem('fm.refresh'); },
};

let refreshing = null;
async function refreshTokens() {
  if (!session.refresh) return false;
  refreshing ??= fetch('/api/accounts/refresh', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refreshToken: session.refresh }),
  }).then(async (r) => { if (r.ok) { session.save(await r.json()); return true; } session.clear(); return false; })
    .finally(() => { refreshing = null; });
  return refreshing;
}

/** Calls the public API. Returns { ok, status, data, problem, headers }; never throws on HTTP errors. */
async function api(method, path, body, { key, form, retried } = {}) {
  const headers = { Accept: 'application/json' };
  if (session.access) headers.Authorization = `Bearer ${session.access}`;
  if (key) headers['Idempotency-Key'] = key;
  let payload;
  if (form) payload = form;
  else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, cache: 'no-store' });
  } catch {
    return { ok: false, status: 0, problem: { code: 'network' }, headers: new Headers() };
  }
  learnClock(response);
  if (response.status === 401 && !retried && session.refresh && await refreshTokens()) {
    return api(method, path, body, { key, form, retried: true });
  }
  const type = response.headers.get('Content-Type') ?? '';
  const data = type.includes('json') && response.status !== 204 ? await response.json().catch(() => null) : null;
  const result = { ok: response.ok, status: response.status, headers: response.headers, data: response.ok ? data : null, problem: response.ok ? null : (data ?? { status: response.status }) };
  if (result.problem?.code === 'degraded') notice(t('degraded'));
  return result;
}

function goToLogin() {
  const login = location.pathname.startsWith('/ops') ? '/ops/login' : '/login';
  location.assign(`${login}?next=${encodeURIComponent(location.pathname + location.search)}`);
}

/** Only same-site paths are followed after logging in (no open redirect). */
function safeNext(fallback) {
  const next = params.get('next');
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : fallback;
}

/** Runs an authenticated call; on 401 sends the buyer to log in and returns null. */
async function authed(method, path, body, options) {
  if (!session.access) { goToLogin(); return null; }
  const result = await api(method, path, body, options);
  if (result.status === 401) { session.clear(); goToLogin(); return null; }
  return result;
}

// ---------------------------------------------------------------- shared chrome --

document.querySelector('.lang')?.addEventListener('click', (event) => {
  document.cookie = `lang=${event.currentTarget.dataset.lang}; path=/; max-age=31536000; SameSite=Lax`;
  location.reload();
});

const searchInput = $('#q');
if (searchInput) {
  searchInput.value = params.get('q') ?? '';
  let timer;
  searchInput.addEventListener('input', () => {
    clearTimeout(timer);
    const q = searchInput.value.trim();
    if (!q) return;
    timer = setTimeout(async () => {
      const result = await api('GET', `/api/search/suggest?q=${encodeURIComponent(q)}`);
      if (!result.ok) return;
      $('#suggestions').replaceChildren(...(result.data.suggestions ?? []).map((s) => h('option', { value: s })));
    }, 200);
  });
}

for (const link of document.querySelectorAll('.tabs a, .opsnav a')) {
  const href = link.getAttribute('href');
  if (href === location.pathname || (href !== '/' && href !== '/ops' && location.pathname.startsWith(href))) link.setAttribute('aria-current', 'page');
}

// ---------------------------------------------------------------- flash sales --

function pad(n) { return String(n).padStart(2, '0'); }
function countdownText(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(s / 86400);
  const clock = `${pad(Math.floor(s / 3600) % 24)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
  return days > 0 ? `${days}d ${clock}` : clock;
}

const countdowns = new Set();
setInterval(() => { for (const tick of countdowns) tick(); }, 250);

/** A flash-sale card: prices, a countdown on the server's clock, remaining, the buy button. */
function saleCard(sale) {
  const starts = Date.parse(sale.startsAt);
  const ends = Date.parse(sale.endsAt);
  const label = h('span', { class: 'muted' });
  const clock = h('span', { class: 'countdown', 'aria-live': 'off' });
  const button = h('button', { type: 'button', class: 'btn buy', dataset: { saleId: sale.id } }, t('buy'));
  const status = h('p', { class: 'buy-status', role: 'status', 'aria-live': 'polite' });
  const left = h('span', { class: 'muted remaining' }, `${sale.remaining} ${t('remaining')}`);
  const sold = sale.quantity > 0 ? Math.round(100 * (sale.quantity - sale.remaining) / sale.quantity) : 0;
  const tick = () => {
    const now = serverNow();
    const live = now >= starts && now < ends;
    label.textContent = now < starts ? t('upcoming') : t('live');
    clock.textContent = countdownText((now < starts ? starts : ends) - now);
    if (!button.dataset.busy) button.disabled = !live || button.dataset.final === '1';
    button.textContent = now < starts ? t('soon') : button.dataset.done ?? t('buy');
  };
  tick();
  countdowns.add(tick);
  button.addEventListener('click', () => buy(sale, button, status, left));
  return h('li', { class: 'sale', dataset: { saleId: sale.id } },
    h('a', { class: 'name', href: `/sale/${encodeURIComponent(sale.id)}` }, sale.name),
    h('span', {}, h('span', { class: 'price' }, money(sale.salePrice)), h('span', { class: 'was' }, money(sale.originalPrice))),
    h('span', {}, label, ' ', clock),
    h('div', { class: 'meter', role: 'presentation' }, h('span', { style: null, dataset: { pct: sold } })),
    left, button, status);
}

// CSP forbids inline style attributes set from markup; widths are set through the CSSOM instead.
function paintMeters(root = document) {
  for (const bar of root.querySelectorAll('.meter span[data-pct]')) bar.style.width = `${bar.dataset.pct}%`;
}

/**
 * Buys one unit: one Idempotency-Key per attempt (kept until the answer is final, so a retry
 * after a timeout cannot buy twice), then follows the reservation until it becomes an order.
 */
async function buy(sale, button, status, left) {
  if (!session.access) { notice(t('login_first')); goToLogin(); return; }
  const keyName = `fm.buy.${sale.id}`;
  const key = sessionStorage.getItem(keyName) ?? newKey();
  sessionStorage.setItem(keyName, key);
  button.dataset.busy = '1';
  button.disabled = true;
  status.dataset.state = 'busy';
  status.textContent = '…';
  const result = await api('POST', `/api/flash-sales/${encodeURIComponent(sale.id)}/purchase`, { quantity: 1 }, { key });
  if (result.status === 401) { session.clear(); goToLogin(); return; }
  if (result.ok) {
    status.dataset.state = 'reserved';
    status.textContent = t('reserved');
    button.dataset.final = '1';
    left.textContent = `${Math.max(0, sale.remaining - 1)} ${t('remaining')}`;
    await followReservation(result.data.reservationId, status);
    sessionStorage.removeItem(keyName);
    return;
  }
  const code = result.problem?.code;
  const final = ['sold_out', 'limit_reached', 'ended'].includes(code);
  if (final || code === 'not_started') sessionStorage.removeItem(keyName);
  if (final) button.dataset.final = '1';
  status.dataset.state = 'refused';
  status.dataset.code = code ?? 'error';
  status.textContent = ['sold_out', 'limit_reached', 'not_started', 'ended'].includes(code) ? t(code) : t('try_later');
  if (code === 'sold_out') { button.dataset.done = t('sold_out'); button.textContent = t('sold_out'); left.textContent = `0 ${t('remaining')}`; }
  const retryAfter = Number(result.headers.get('Retry-After') ?? 0);
  delete button.dataset.busy;
  if (!final) setTimeout(() => { button.disabled = false; }, Math.min(10, Math.max(1, retryAfter)) * 1000);
}

async function followReservation(id, status) {
  for (let i = 0; i < 120; i++) {
    const result = await api('GET', `/api/reservations/${encodeURIComponent(id)}`);
    if (result.ok && result.data.status === 'ordered' && result.data.orderId) {
      status.dataset.state = 'ordered';
      status.replaceChildren(h('a', { href: `/orders/${encodeURIComponent(result.data.orderId)}`, id: 'order-link' }, t('ordered')));
      return;
    }
    if (result.ok && result.data.status === 'released') { status.dataset.state = 'refused'; status.textContent = t('released'); return; }
    await new Promise((resolve) => setTimeout(resolve, i < 20 ? 250 : 1000));
  }
}

async function renderSales(target, status) {
  const result = await api('GET', `/api/flash-sales?status=${status}&pageSize=20`);
  if (!result.ok || !target) return;
  target.replaceChildren(...result.data.items.map(saleCard));
  if (!result.data.items.length) target.append(h('li', { class: 'muted' }, t('none')));
  paintMeters(target);
}

async function renderCategoryChips(current) {
  const target = $('#categories');
  if (!target) return new Map();
  const result = await api('GET', '/api/categories');
  if (!result.ok) return new Map();
  const flat = [];
  const walk = (nodes) => { for (const n of nodes) { flat.push(n); walk(n.children ?? []); } };
  walk(result.data);
  target.replaceChildren(...flat.map((c) => h('li', {}, h('a', { href: `/c/${encodeURIComponent(c.id)}`, 'aria-current': c.id === current ? 'true' : null }, c.name))));
  return new Map(flat.map((c) => [c.id, c.name]));
}

// ---------------------------------------------------------------- store pages --

const pages = {};

pages.home = async () => {
  await Promise.all([renderSales($('#live'), 'live'), renderSales($('#upcoming'), 'upcoming'), renderCategoryChips()]);
};

pages.degraded = async () => { await renderSales($('#live'), 'live'); };

pages.sale = async () => {
  const result = await api('GET', `/api/flash-sales/${encodeURIComponent(main.dataset.id)}`);
  if (!result.ok) { showError(result.problem); return; }
  $('#sale').replaceChildren(saleCard(result.data));
  paintMeters();
};

pages.search = async () => {
  const category = main.dataset.category || params.get('categoryId') || '';
  const query = new URLSearchParams();
  for (const name of ['q', 'brand', 'priceMin', 'priceMax', 'sort']) if (params.get(name)) query.set(name, params.get(name));
  if (category) query.set('categoryId', category);
  $('#sort').value = params.get('sort') ?? 'relevance';
  $('#sort').addEventListener('change', (e) => { const next = new URLSearchParams(location.search); next.set('sort', e.target.value); location.search = next; });
  const categoryNames = renderCategoryChips(category);
  let pageNo = 1;
  const load = async () => {
    query.set('page', pageNo); query.set('pageSize', 20);
    const result = await api('GET', `/api/search?${query}`);
    if (!result.ok) { showError(result.problem); return; }
    const { items, total, facets } = result.data;
    $('#count').textContent = `${total} ${t('results')}`;
    $('#results').append(...items.map((p) => h('li', {}, h('a', { href: `/p/${encodeURIComponent(p.id)}` },
      p.imageUrl ? h('img', { src: p.imageUrl, alt: '', loading: 'lazy', width: 170, height: 170 }) : h('span', { class: 'noimg' }),
      h('span', { class: 'name' }, p.name), h('span', { class: 'price' }, money(p.price)), h('span', { class: 'muted' }, p.brand ?? '')))));
    $('#more').hidden = pageNo * 20 >= total;
    if (pageNo === 1) renderFacets(facets, category, await categoryNames);
  };
  $('#more').addEventListener('click', () => { pageNo++; load(); });
  await load();
};

function renderFacets(facets, category, categoryNames) {
  const box = $('#facets');
  const group = (title, name, values, label = (v) => v) => {
    if (!values?.length) return null;
    const current = name === 'categoryId' ? category : params.get(name);
    const link = (value, text) => {
      const next = new URLSearchParams(location.search);
      if (value) next.set(name, value); else next.delete(name);
      next.delete('page');
      const path = name === 'categoryId' ? '/search' : location.pathname;
      if (name !== 'categoryId' && category && location.pathname === '/search') next.set('categoryId', category);
      return h('li', {}, h('a', { href: `${path}?${next}`, 'aria-current': (value ?? '') === (current ?? '') ? 'true' : null }, text));
    };
    return h('div', {}, h('h3', {}, title), h('ul', { class: 'chips' }, link(null, t('all')), values.map((v) => link(v.value, `${label(v.value)} (${v.count})`))));
  };
  box.replaceChildren(...[group(t('category'), 'categoryId', facets?.category, (id) => categoryNames.get(id) ?? id), group(t('brand'), 'brand', facets?.brand)].filter(Boolean));
}

pages.product = async () => {
  const result = await api('GET', `/api/products/${encodeURIComponent(main.dataset.id)}`);
  if (!result.ok) { showError(result.problem); return; }
  const product = result.data;
  document.title = `FlashMall · ${product.name}`;
  $('#name').textContent = product.name;
  $('#brand').textContent = product.brand ?? '';
  $('#description').textContent = product.description ?? '';
  $('#gallery').replaceChildren(...(product.images ?? []).map((src) => h('img', { src: typeof src === 'string' ? src : src.url, alt: '', width: 360, height: 360 })));
  let chosen = null;
  const choose = (sku, input) => { chosen = sku; $('#price').textContent = money(sku.price); $('#add-to-cart').disabled = sku.stock <= 0; input.checked = true; };
  const options = product.skus.map((sku, i) => {
    const attributes = Object.values(sku.attributes ?? {}).join(' / ') || sku.code;
    const input = h('input', { type: 'radio', name: 'sku', value: sku.id, onchange: () => choose(sku, input) });
    const label = h('label', { dataset: { skuId: sku.id } }, input, h('span', {}, `${attributes} · ${money(sku.price)}`));
    if (i === 0) queueMicrotask(() => choose(sku, input));
    return label;
  });
  $('#skus').replaceChildren(...options);
  $('#add-to-cart').addEventListener('click', async () => {
    if (!chosen) return;
    const quantity = Math.max(1, Number($('#quantity').value) || 1);
    const added = await authed('POST', '/api/cart/items', { skuId: chosen.id, quantity });
    if (!added) return;
    if (added.ok) notice(t('added'), h('a', { href: '/cart', id: 'go-cart' }, t('view_cart'))); else notice(problemMessage(added.problem));
  });
};

pages.login = () => {
  $('#login-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('#submit').disabled = true;
    const result = await api('POST', '/api/accounts/login', { login: $('#login').value.trim(), password: $('#password').value });
    $('#submit').disabled = false;
    if (!result.ok) { showError(result.problem); return; }
    session.save(result.data);
    location.assign(safeNext(location.pathname.startsWith('/ops') ? '/ops' : '/'));
  });
};

pages.register = () => {
  $('#register-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const login = $('#login').value.trim();
    const password = $('#password').value;
    const body = login.includes('@') ? { email: login, password } : { phone: login, password };
    if ($('#nickname').value.trim()) body.nickname = $('#nickname').value.trim();
    $('#submit').disabled = true;
    const created = await api('POST', '/api/accounts/register', body);
    if (!created.ok) { $('#submit').disabled = false; showError(created.problem); return; }
    const signedIn = await api('POST', '/api/accounts/login', { login, password });
    if (!signedIn.ok) { $('#submit').disabled = false; showError(signedIn.problem); return; }
    session.save(signedIn.data);
    location.assign(safeNext('/'));
  });
};

function cartLine(line, onChange) {
  const quantity = h('output', {}, line.quantity);
  const step = (delta) => async () => {
    const next = line.quantity + delta;
    const result = next <= 0
      ? await authed('DELETE', `/api/cart/items/${encodeURIComponent(line.skuId)}`)
      : await authed('PUT', `/api/cart/items/${encodeURIComponent(line.skuId)}`, { quantity: next });
    if (result?.ok || result?.status === 204) onChange(); else if (result) notice(problemMessage(result.problem));
  };
  return h('li', { class: 'line', dataset: { skuId: line.skuId } },
    h('a', { class: 'name', href: line.productId ? `/p/${encodeURIComponent(line.productId)}` : '#' }, line.name ?? line.skuId),
    h('span', { class: 'price' }, money(line.lineTotal)),
    h('span', { class: 'stepper' }, h('button', { type: 'button', 'aria-label': '−', onclick: step(-1) }, '−'), quantity,
      h('button', { type: 'button', 'aria-label': '+', onclick: step(1) }, '+')),
    h('span', { class: 'muted' }, money(line.unitPrice)));
}

pages.cart = async () => {
  const load = async () => {
    const result = await authed('GET', '/api/cart');
    if (!result?.ok) return;
    $('#lines').replaceChildren(...result.data.items.map((line) => cartLine(line, load)));
    $('#empty').hidden = result.data.items.length > 0;
    $('#to-checkout').hidden = result.data.items.length === 0;
    $('#total').textContent = money(result.data.subtotal);
  };
  await load();
};

function readAddress() {
  const value = (id) => $(`#a-${id}`)?.value.trim() ?? '';
  const address = { name: value('name'), phone: value('phone'), line1: value('line1'), city: value('city'), region: value('region') };
  if (value('postcode')) address.postcode = value('postcode');
  return address;
}

pages.checkout = async () => {
  const [cart, coupons] = await Promise.all([authed('GET', '/api/cart'), authed('GET', '/api/coupons?pageSize=100')]);
  if (!cart?.ok) return;
  $('#lines').replaceChildren(...cart.data.items.map((l) => h('li', { class: 'line' }, h('span', { class: 'name' }, `${l.name ?? l.skuId} × ${l.quantity}`), h('span', { class: 'price' }, money(l.lineTotal)))));
  const usable = (coupons?.data?.items ?? coupons?.data ?? []).filter((c) => c.status === 'unused');
  $('#coupon').append(...usable.map((c) => h('option', { value: c.couponId }, couponText(c))));
  $('#checkout-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    // One key per checkout attempt: a double tap or a retry after a lost answer places one order.
    const key = sessionStorage.getItem('fm.checkout') ?? newKey();
    sessionStorage.setItem('fm.checkout', key);
    const body = { address: readAddress() };
    if ($('#coupon').value) body.couponId = $('#coupon').value;
    $('#place-order').disabled = true;
    const result = await authed('POST', '/api/orders', body, { key });
    $('#place-order').disabled = false;
    if (!result) return;
    if (result.status === 422 || result.problem?.code === 'idempotency_key_reused') sessionStorage.removeItem('fm.checkout');
    if (!result.ok) { showError(result.problem); if (result.status !== 409 || result.problem?.code !== 'idempotency_in_flight') sessionStorage.removeItem('fm.checkout'); return; }
    sessionStorage.removeItem('fm.checkout');
    location.assign(`/orders/${encodeURIComponent(result.data.orderId)}`);
  });
};

function couponText(c) {
  const value = c.kind === 'percent_off' ? `${c.value}%` : money(c.value);
  return `${c.name} · ${t('off')} ${value}${c.minSpend ? ` · ${t('minSpend')} ${money(c.minSpend)}` : ''}`;
}

function statusText(status) { return t(`status_${status}`); }

pages.orders = async () => {
  const result = await authed('GET', '/api/orders?pageSize=50');
  if (!result?.ok) return;
  const items = result.data.items ?? [];
  $('#empty').hidden = items.length > 0;
  $('#orders').replaceChildren(...items.map((o) => h('li', { class: 'line', dataset: { orderId: o.orderId, status: o.status } },
    h('a', { class: 'name', href: `/orders/${encodeURIComponent(o.orderId)}` }, (o.items ?? []).map((i) => i.name).join('、') || o.orderId),
    h('span', { class: 'price' }, money(o.total)), h('span', { class: 'status', dataset: { status: o.status } }, statusText(o.status)),
    h('span', { class: 'muted' }, fmtTime(o.createdAt)))));
};

pages.order = async () => {
  const id = main.dataset.id;
  const render = (o) => {
    $('#status').textContent = statusText(o.status);
    $('#status').dataset.status = o.status;
    $('#lines').replaceChildren(...o.items.map((i) => h('li', { class: 'line' }, h('a', { class: 'name', href: `/p/${encodeURIComponent(i.productId)}` }, `${i.name} × ${i.quantity}`), h('span', { class: 'price' }, money(i.unitPrice * i.quantity)))));
    $('#subtotal').textContent = money(o.subtotal);
    $('#discount').textContent = `−${money(o.discount)}`;
    $('#total').textContent = money(o.total);
    const unpaid = o.status === 'pending_payment';
    $('#pay-before').textContent = unpaid ? `${t('status_pending_payment')} · ${fmtTime(o.payBefore)}` : '';
    $('#pay').hidden = !unpaid;
    $('#cancel').hidden = !unpaid;
    $('#address-form').hidden = !(unpaid && !o.address);
  };
  const load = async () => { const r = await authed('GET', `/api/orders/${encodeURIComponent(id)}`); if (r?.ok) render(r.data); else if (r) showError(r.problem); return r?.data; };
  await load();
  $('#address-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const r = await authed('PUT', `/api/orders/${encodeURIComponent(id)}/address`, readAddress());
    if (r?.ok || r?.status === 204) { notice(t('addressSaved')); await load(); } else if (r) showError(r.problem);
  });
  $('#cancel').addEventListener('click', async () => { const r = await authed('POST', `/api/orders/${encodeURIComponent(id)}/cancel`); if (r?.ok) await load(); else if (r) showError(r.problem); });
  $('#pay').addEventListener('click', async () => {
    const key = sessionStorage.getItem(`fm.pay.${id}`) ?? newKey();
    sessionStorage.setItem(`fm.pay.${id}`, key);
    const r = await authed('POST', `/api/orders/${encodeURIComponent(id)}/payments`, { method: 'simulator' }, { key });
    if (!r) return;
    if (!r.ok) { showError(r.problem); return; }
    sessionStorage.removeItem(`fm.pay.${id}`);
    simulatorSheet(r.data.paymentId, async () => {
      $('#error').textContent = t('paying');
      for (let i = 0; i < 60; i++) {
        const order = await load();
        if (order && order.status !== 'pending_payment') { $('#error').textContent = ''; return; }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    });
  });
};

/** The provider's side: in production the pay URL; here the simulator's succeed/fail calls. */
function simulatorSheet(paymentId, after) {
  const close = () => sheet.remove();
  const act = (outcome) => async () => {
    close();
    await fetch(`/simulator/payments/${encodeURIComponent(paymentId)}/${outcome}`, { method: 'POST' });
    await after();
  };
  const sheet = h('div', { class: 'sheet', role: 'dialog', 'aria-label': t('simulator') },
    h('strong', {}, t('simulator')),
    h('button', { type: 'button', class: 'btn', id: 'sim-pay', onclick: act('succeed') }, t('simPay')),
    h('button', { type: 'button', class: 'btn ghost', id: 'sim-fail', onclick: act('fail') }, t('simFail')));
  document.body.append(sheet);
}

pages.coupons = async () => {
  if (params.get('claim')) $('#template').value = params.get('claim');
  const load = async () => {
    const r = await authed('GET', '/api/coupons?pageSize=100');
    if (!r?.ok) return;
    const items = r.data.items ?? r.data;
    $('#coupons').replaceChildren(...items.map((c) => h('li', { class: 'line', dataset: { couponId: c.couponId, status: c.status } },
      h('span', { class: 'name' }, couponText(c)), h('span', { class: 'muted' }, t(`coupon_${c.status}`)),
      h('span', { class: 'muted' }, `${t('validTo')} ${fmtTime(c.validTo)}`))));
  };
  $('#claim-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const templateId = $('#template').value.trim();
    if (!templateId) return;
    const r = await authed('POST', '/api/coupons/claim', { templateId }, { key: newKey() });
    if (!r) return;
    if (r.ok) { $('#error').textContent = ''; notice(t('claimed')); await load(); } else showError(r.problem);
  });
  await load();
};

pages.me = async () => {
  if (!session.access) return;
  const r = await api('GET', '/api/accounts/me');
  if (!r.ok) return;
  $('#me-name').textContent = r.data.nickname || r.data.email || r.data.phone || '';
  $('#sign-in').parentElement.hidden = true;
  $('#sign-out').hidden = false;
  $('#console').hidden = !r.data.roles.some((role) => ['operator', 'merchandiser', 'admin'].includes(role));
  $('#sign-out').addEventListener('click', () => { session.clear(); location.assign('/'); });
};

pages.circle = async () => {
  let pageNo = 1;
  let before = null;
  const load = async () => {
    const query = new URLSearchParams({ page: pageNo, pageSize: 20 });
    if (before) query.set('before', before);
    const r = await api('GET', `/api/circle/feed?${query}`);
    if (!r.ok) { showError(r.problem); return; }
    before ??= r.data.before;
    $('#feed').append(...r.data.items.map(postCard));
    $('#more').hidden = !r.data.nextCursor && pageNo * 20 >= r.data.total;
  };
  $('#more').addEventListener('click', () => { pageNo++; load(); });
  await load();
};

function postCard(post) {
  const likes = h('span', { class: 'muted' }, `${post.likes} ${t('likes')}`);
  const like = h('button', { type: 'button', class: 'btn ghost small', onclick: async () => {
    const r = await authed('POST', `/api/circle/posts/${encodeURIComponent(post.postId)}/likes`);
    if (r?.ok) likes.textContent = `${r.data.likes} ${t('likes')}`;
  } }, t('like'));
  return h('li', { dataset: { postId: post.postId } },
    h('p', { class: 'text' }, post.text),
    h('div', { class: 'thumbs' }, post.images.map((i) => h('a', { href: i.url }, h('img', { src: i.thumbUrl, alt: '', loading: 'lazy', width: i.width, height: i.height })))),
    h('div', { class: 'actions' }, h('span', { class: 'muted' }, fmtTime(post.createdAt)), likes, like));
}

pages['circle-new'] = () => {
  if (!session.access) { goToLogin(); return; }
  $('#images').addEventListener('change', (e) => {
    $('#previews').replaceChildren(...[...e.target.files].slice(0, 9).map((f) => h('img', { src: URL.createObjectURL(f), alt: '' })));
  });
  $('#post-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData();
    form.append('text', $('#text').value);
    for (const file of [...$('#images').files].slice(0, 9)) form.append('images', file);
    $('#publish').disabled = true;
    const r = await authed('POST', '/api/circle/posts', undefined, { form, key: newKey() });
    $('#publish').disabled = false;
    if (!r) return;
    if (r.ok) location.assign('/circle'); else showError(r.problem);
  });
};

// ---------------------------------------------------------------- ops console --

async function consoleUser() {
  if (!session.access) { goToLogin(); return null; }
  const r = await api('GET', '/api/accounts/me');
  if (!r.ok) { session.clear(); goToLogin(); return null; }
  const who = $('#who');
  if (who) who.textContent = `${r.data.nickname || r.data.email || ''} · ${r.data.roles.join(', ')}`;
  return r.data;
}

pages['ops-sales'] = async () => {
  if (!await consoleUser()) return;
  const r = await api('GET', '/api/flash-sales?pageSize=100');
  if (!r.ok) { showError(r.problem); return; }
  $('#sales').replaceChildren(...r.data.items.map((s) => h('tr', {},
    h('td', {}, h('a', { href: `/ops/sales/${encodeURIComponent(s.id)}` }, s.name)),
    h('td', {}, t(`${s.status}_s`)), h('td', {}, `${s.remaining} / ${s.quantity}`), h('td', {}, fmtTime(s.startsAt)), h('td', {}, fmtTime(s.endsAt)))));
};

pages['ops-sale'] = async () => {
  if (!await consoleUser()) return;
  const id = encodeURIComponent(main.dataset.id);
  const history = [];
  const poll = async () => {
    const [sale, recon] = await Promise.all([api('GET', `/api/flash-sales/${id}`), api('GET', `/api/admin/flash-sales/${id}/reconciliation`)]);
    const at = serverNow();
    if (sale.ok) $('#sale-name').textContent = sale.data.name;
    const quantity = recon.ok ? recon.data.quantity : sale.data?.quantity ?? 0;
    const remaining = recon.ok ? recon.data.remaining : sale.data?.remaining ?? 0;
    const ordered = recon.ok ? recon.data.ordered : null;
    const reserved = recon.ok ? recon.data.reserved : null;
    history.push({ at, taken: quantity - remaining, ordered });
    while (history.length > 1 && at - history[0].at > 15 * 60_000) history.shift();
    const previous = history.length > 1 ? history[history.length - 2] : null;
    const seconds = previous ? (at - previous.at) / 1000 : 0;
    $('#m-remaining').textContent = `${remaining} / ${quantity}`;
    $('#m-rps').textContent = previous && seconds > 0 ? ((quantity - remaining - previous.taken) / seconds).toFixed(1) : '0.0';
    $('#m-ops').textContent = previous && seconds > 0 && ordered !== null ? ((ordered - previous.ordered) / seconds).toFixed(1) : '–';
    $('#m-lag').textContent = reserved ?? '–';
    $('#m-recon').textContent = recon.ok ? (recon.data.balanced ? t('balanced') : t('unbalanced')) : problemMessage(recon.problem);
    $('#m-recon').dataset.ok = recon.ok ? String(recon.data.balanced) : 'false';
    $('#differences').replaceChildren(...(recon.data?.differences ?? []).map((d) => h('li', {}, d)));
    $('#updated').textContent = `${t('updated')} ${new Date(at).toLocaleTimeString()}`;
    if (sale.ok) drawSellThrough(history, sale.data, quantity);
    drawOrdersPerMinute(history);
  };
  await poll();
  setInterval(poll, 1000);
};

function drawSellThrough(history, sale, quantity) {
  const chart = $('#chart');
  const from = Math.min(Date.parse(sale.startsAt), history[0].at);
  const to = Math.max(Math.min(Date.parse(sale.endsAt), serverNow() + 60_000), history[history.length - 1].at + 1);
  const x = (at) => 40 + 550 * (at - from) / (to - from);
  const y = (taken) => 180 - 170 * (quantity ? taken / quantity : 0);
  const points = [[from, 0], ...history.map((p) => [p.at, p.taken])].map(([at, taken]) => `${x(at).toFixed(1)},${y(taken).toFixed(1)}`).join(' ');
  chart.replaceChildren(
    svg('line', { class: 'axis', x1: 40, y1: 180, x2: 590, y2: 180 }), svg('line', { class: 'axis', x1: 40, y1: 10, x2: 40, y2: 180 }),
    svg('text', { x: 4, y: 14 }, String(quantity)), svg('text', { x: 4, y: 180 }, '0'),
    svg('polyline', { class: 'line', points }));
}

function drawOrdersPerMinute(history) {
  const chart = $('#chart-orders');
  const buckets = new Map();
  for (let i = 1; i < history.length; i++) {
    if (history[i].ordered === null || history[i - 1].ordered === null) continue;
    const minute = Math.floor(history[i].at / 60_000);
    buckets.set(minute, (buckets.get(minute) ?? 0) + history[i].ordered - history[i - 1].ordered);
  }
  const minutes = [...buckets.keys()].slice(-15);
  const max = Math.max(1, ...minutes.map((m) => buckets.get(m)));
  chart.replaceChildren(svg('line', { class: 'axis', x1: 40, y1: 110, x2: 590, y2: 110 }), svg('text', { x: 4, y: 14 }, String(max)),
    ...minutes.map((m, i) => svg('rect', { class: 'bar', x: 44 + i * 36, width: 30, y: 110 - 100 * buckets.get(m) / max, height: 100 * buckets.get(m) / max })));
}

pages['ops-switches'] = async () => {
  if (!await consoleUser()) return;
  const load = async () => {
    const [switches, audit] = await Promise.all([api('GET', '/api/admin/switches'), api('GET', '/api/admin/audit?pageSize=100')]);
    if (!switches.ok) { showError(switches.problem); return; }
    $('#switches').replaceChildren(...switches.data.map((s) => {
      const reason = h('input', { 'aria-label': t('reason'), placeholder: t('reason'), maxlength: 500, dataset: { reasonFor: s.name } });
      const toggle = h('button', { type: 'button', class: 'btn small', dataset: { switch: s.name }, onclick: async () => {
        if (!reason.value.trim()) { $('#error').textContent = t('needReason'); reason.focus(); return; }
        const r = await api('PUT', `/api/admin/switches/${encodeURIComponent(s.name)}`, { enabled: !s.enabled, reason: reason.value.trim() });
        if (!r.ok) { showError(r.problem); return; }
        $('#error').textContent = '';
        notice(r.status === 202 ? t('pending') : t('applied'));
        await load();
      } }, s.enabled ? t('disable') : t('enable'));
      return h('tr', { dataset: { switch: s.name, enabled: s.enabled } },
        h('td', {}, h('strong', {}, s.name), h('br'), h('span', { class: 'muted' }, s.description)),
        h('td', {}, s.enabled ? t('on') : t('off2')), h('td', {}, s.updatedBy), h('td', {}, fmtTime(s.updatedAt)), h('td', {}, reason, toggle));
    }));
    // The approval queue: changes requested (audit "requested") and not yet applied.
    const entries = audit.ok ? (audit.data.items ?? []) : [];
    const applied = new Set(entries.filter((e) => e.action === 'applied').map((e) => e.changeId));
    const waiting = entries.filter((e) => e.action === 'requested' && !applied.has(e.changeId));
    $('#approvals').replaceChildren(...waiting.map((e) => h('tr', { dataset: { changeId: e.changeId } },
      h('td', {}, e.switch), h('td', {}, `${e.before ? t('on') : t('off2')} → ${e.after ? t('on') : t('off2')}`), h('td', {}, e.requestedBy), h('td', {}, e.reason),
      h('td', {}, h('button', { type: 'button', class: 'btn small', onclick: async () => {
        const r = await api('POST', `/api/admin/changes/${encodeURIComponent(e.changeId)}/approve`);
        if (!r.ok) { showError(r.problem); return; }
        notice(t('applied'));
        await load();
      } }, t('approve'))))));
  };
  await load();
};

const LISTS = {
  audit: { path: '/api/admin/audit' },
  risk: { path: '/api/admin/risk/decisions' },
  'dead-letters': { path: '/api/admin/dead-letters', action: (row) => ({ label: t('replay'), path: `/api/admin/dead-letters/${encodeURIComponent(row.id)}/replay` }) },
  jobs: { path: '/api/admin/jobs', action: (row) => ({ label: t('runNow'), path: `/api/admin/jobs/${encodeURIComponent(row.name)}/run` }) },
  'slow-queries': { path: '/api/admin/slow-queries' },
};

const cell = (value) => {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) return fmtTime(value);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
};

pages['ops-list'] = async () => {
  if (!await consoleUser()) return;
  const list = LISTS[main.dataset.section];
  let pageNo = 1;
  let columns = null;
  const load = async () => {
    const r = await api('GET', `${list.path}?page=${pageNo}&pageSize=50`);
    if (r.status === 404 && !r.problem?.code) { $('#unavailable').hidden = false; return; }
    if (r.status === 404) { $('#unavailable').hidden = false; return; }
    if (!r.ok) { showError(r.problem); return; }
    const rows = Array.isArray(r.data) ? r.data : (r.data.items ?? []);
    columns ??= rows.length ? Object.keys(rows[0]) : [];
    if (pageNo === 1) $('#head').replaceChildren(h('tr', {}, columns.map((c) => h('th', {}, c)), list.action ? h('th') : null));
    $('#rows').append(...rows.map((row) => h('tr', {}, columns.map((c) => h('td', {}, cell(row[c]))),
      list.action ? h('td', {}, actionButton(list.action(row))) : null)));
    if (!rows.length && pageNo === 1) $('#rows').append(h('tr', {}, h('td', { class: 'muted' }, t('none'))));
    $('#more').hidden = Array.isArray(r.data) || pageNo * 50 >= (r.data.total ?? 0);
  };
  $('#more').addEventListener('click', () => { pageNo++; load(); });
  await load();
};

function actionButton({ label, path }) {
  const button = h('button', { type: 'button', class: 'btn small' }, label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    const r = await api('POST', path);
    if (r.ok || r.status === 202 || r.status === 204) notice(`${label}: ${t('applied')}`); else { showError(r.problem); button.disabled = false; }
  });
  return button;
}

const yuanToFen = (value) => Math.round(Number(value) * 100);
const localToIso = (value) => new Date(value).toISOString();

function adminForm(formId, build, path, describe, { idempotent = true } = {}) {
  $(formId).addEventListener('submit', async (event) => {
    event.preventDefault();
    $('#result').textContent = '';
    const r = await api('POST', path, build(), idempotent ? { key: newKey() } : {});
    if (!r.ok) { showError(r.problem); return; }
    $('#error').textContent = '';
    $('#result').replaceChildren(`${t('created')}: `, describe(r.data));
  });
}

pages['ops-new-product'] = async () => {
  if (!await consoleUser()) return;
  const categories = await api('GET', '/api/categories');
  const flat = [];
  const walk = (nodes, depth) => { for (const n of nodes) { flat.push([n, depth]); walk(n.children ?? [], depth + 1); } };
  if (categories.ok) walk(categories.data, 0);
  $('#p-category').replaceChildren(...flat.map(([c, depth]) => h('option', { value: c.id }, `${'· '.repeat(depth)}${c.name}`)));
  adminForm('#product-form', () => ({
    name: $('#p-name').value, description: $('#p-description').value, categoryId: $('#p-category').value, brand: $('#p-brand').value,
    skus: [{ code: $('#p-code').value, price: yuanToFen($('#p-price').value), stock: Number($('#p-stock').value), attributes: {} }],
  }), '/api/admin/products', (data) => h('span', {}, h('a', { href: `/p/${encodeURIComponent(data.id)}` }, data.id), ` · SKU ${data.skus.map((s) => s.id).join(', ')}`));
};

pages['ops-new-sale'] = async () => {
  if (!await consoleUser()) return;
  adminForm('#sale-form', () => ({
    skuId: $('#s-sku').value.trim(), salePrice: yuanToFen($('#s-price').value), quantity: Number($('#s-quantity').value),
    perUserLimit: Number($('#s-limit').value), startsAt: localToIso($('#s-starts').value), endsAt: localToIso($('#s-ends').value),
  }), '/api/admin/flash-sales', (data) => h('a', { href: `/ops/sales/${encodeURIComponent(data.id)}` }, data.id),
  // Without a key: on SQLite the idempotent path of this endpoint waits on the catalog's write lock (reported).
  { idempotent: false });
};

pages['ops-new-coupon'] = async () => {
  if (!await consoleUser()) return;
  adminForm('#coupon-form', () => ({
    name: $('#c-name').value, kind: $('#c-kind').value, value: Number($('#c-value').value), minSpend: yuanToFen($('#c-min').value),
    totalQuantity: Number($('#c-total').value), perUserLimit: Number($('#c-limit').value), validFrom: localToIso($('#c-from').value), validTo: localToIso($('#c-to').value),
  }), '/api/admin/coupon-templates', (data) => h('a', { href: `/coupons?claim=${encodeURIComponent(data.id)}` }, data.id));
};

// A script-driven form (novalidate, handled below) never submits natively, even when tapped
// before its page has finished loading and attached its handler.
document.addEventListener('submit', (event) => { if (event.target.hasAttribute('novalidate')) event.preventDefault(); }, true);

Promise.resolve(pages[page]?.()).finally(() => { document.body.dataset.ready = page; });
