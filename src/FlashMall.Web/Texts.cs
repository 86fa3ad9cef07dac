using System.Collections.Frozen;
using Microsoft.AspNetCore.Http;

namespace FlashMall.Web;

/// <summary>
/// The pages' fixed text in Chinese and English. The language is the <c>lang</c> cookie the
/// language button sets (a preference, never a credential), else the browser's first choice,
/// else Chinese. Text the scripts write at run time has its own table in <c>app.js</c>.
/// </summary>
public sealed class Texts
{
    // Lazy: static fields initialise in text order, and the table is declared below.
    private static readonly Lazy<Texts> ChineseTexts = new(() => new("zh-CN", "en", "English", Build(1)));
    private static readonly Lazy<Texts> EnglishTexts = new(() => new("en", "zh", "中文", Build(0)));

    public static Texts Chinese => ChineseTexts.Value;

    public static Texts English => EnglishTexts.Value;

    private readonly FrozenDictionary<string, string> _strings;

    private Texts(string htmlLang, string other, string switchLabel, FrozenDictionary<string, string> strings)
    {
        HtmlLang = htmlLang;
        Other = other;
        _strings = strings;
        SwitchLabel = switchLabel;
    }

    /// <summary>The value of the page's <c>lang</c> attribute.</summary>
    public string HtmlLang { get; }

    /// <summary>The other language's code, for the language button.</summary>
    public string Other { get; }

    private string SwitchLabel { get; }

    /// <summary>The text for <paramref name="key"/>; the key itself when the table lacks it.</summary>
    public string this[string key] => key == "lang.switch" ? SwitchLabel : _strings.GetValueOrDefault(key, key);

    public static Texts For(HttpContext context)
    {
        var chosen = context.Request.Cookies["lang"];
        if (chosen is "en")
        {
            return English;
        }
        if (chosen is "zh")
        {
            return Chinese;
        }
        var accept = context.Request.Headers.AcceptLanguage.ToString();
        return accept.StartsWith("en", StringComparison.OrdinalIgnoreCase) ? English : Chinese;
    }

    private static FrozenDictionary<string, string> Build(int column) =>
        Table.ToFrozenDictionary(row => row.Key, row => column == 0 ? row.En : row.Zh, StringComparer.Ordinal);

    private static readonly (string Key, string En, string Zh)[] Table =
    [
        ("address.city", "City", "城市"),
        ("address.line1", "Street address", "详细地址"),
        ("address.name", "Recipient", "收货人"),
        ("address.phone", "Phone", "手机号"),
        ("address.postcode", "Postcode", "邮编"),
        ("address.region", "Province", "省份"),
        ("cart.checkout", "Check out", "去结算"),
        ("cart.empty", "Your cart is empty.", "购物车是空的。"),
        ("cart.title", "Cart", "购物车"),
        ("checkout.address", "Delivery address", "收货地址"),
        ("checkout.coupon", "Coupon", "优惠券"),
        ("checkout.noCoupon", "No coupon", "不使用优惠券"),
        ("checkout.place", "Place order", "提交订单"),
        ("checkout.title", "Check out", "确认订单"),
        ("circle.new", "New post", "发布动态"),
        ("circle.photos", "Photos (up to 9)", "照片（最多 9 张）"),
        ("circle.publish", "Publish", "发布"),
        ("circle.text", "What do you want to share?", "分享你的好物"),
        ("circle.title", "Circle", "圈子"),
        ("coupons.claim", "Claim", "领取"),
        ("coupons.code", "Coupon code", "优惠券编号"),
        ("coupons.title", "My coupons", "我的优惠券"),
        ("degraded.body", "Browsing is paused for a moment so that flash-sale buyers get through. The live sales below still work.", "为保障秒杀顺畅，浏览功能暂时休息一下。下面的秒杀照常进行。"),
        ("degraded.retry", "Try again", "重试"),
        ("degraded.title", "We are very busy right now", "当前访问人数过多"),
        ("home.categories", "Categories", "分类"),
        ("home.live", "Flash sales now", "正在秒杀"),
        ("home.title", "Flash sales", "限时秒杀"),
        ("home.upcoming", "Coming up", "即将开始"),
        ("login.link", "Have an account? Log in", "已有账号？登录"),
        ("login.login", "Email or phone", "邮箱或手机号"),
        ("login.password", "Password", "密码"),
        ("login.submit", "Log in", "登录"),
        ("login.title", "Log in", "登录"),
        ("me.console", "Ops console", "运营后台"),
        ("me.signOut", "Sign out", "退出登录"),
        ("me.title", "Me", "我的"),
        ("nav.browse", "Browse", "分类"),
        ("nav.cart", "Cart", "购物车"),
        ("nav.circle", "Circle", "圈子"),
        ("nav.home", "Home", "首页"),
        ("nav.label", "Main", "主导航"),
        ("nav.me", "Me", "我的"),
        ("ops.amountOff", "Amount off (fen)", "满减（分）"),
        ("ops.approvals", "Waiting for approval", "待审批"),
        ("ops.audit", "Audit log", "审计日志"),
        ("ops.brand", "Brand", "品牌"),
        ("ops.category", "Category", "分类"),
        ("ops.change", "Change", "变更"),
        ("ops.create", "Create", "创建"),
        ("ops.deadLetters", "Dead letters", "死信"),
        ("ops.description", "Description", "描述"),
        ("ops.ends", "Ends", "结束时间"),
        ("ops.jobs", "Scheduled jobs", "定时任务"),
        ("ops.kind", "Kind", "类型"),
        ("ops.lag", "Reserved, not yet ordered", "已预留未下单"),
        ("ops.live", "Live sale", "实时秒杀"),
        ("ops.minSpendYuan", "Minimum spend (¥)", "最低消费（元）"),
        ("ops.name", "Name", "名称"),
        ("ops.newCoupon", "New coupon", "新建优惠券"),
        ("ops.newProduct", "New product", "新建商品"),
        ("ops.newSale", "New flash sale", "新建秒杀"),
        ("ops.notAvailable", "Not available on this server.", "此服务器暂不提供。"),
        ("ops.ordersPerMinute", "Orders per minute", "每分钟订单"),
        ("ops.ordersPerSecond", "Orders/s", "订单/秒"),
        ("ops.perUserLimit", "Per-buyer limit", "每人限购"),
        ("ops.percentOff", "Percent off", "折扣（%）"),
        ("ops.priceYuan", "Price (¥)", "价格（元）"),
        ("ops.quantity", "Quantity", "数量"),
        ("ops.reason", "Reason", "原因"),
        ("ops.reconciliation", "Reconciliation", "对账"),
        ("ops.remaining", "Remaining", "剩余"),
        ("ops.requestedBy", "Requested by", "申请人"),
        ("ops.reservationsPerSecond", "Reservations/s", "预留/秒"),
        ("ops.risk", "Risk decisions", "风控决策"),
        ("ops.sale", "Sale", "秒杀"),
        ("ops.salePriceYuan", "Sale price (¥)", "秒杀价（元）"),
        ("ops.sales", "Flash sales", "秒杀活动"),
        ("ops.sellThrough", "Sell-through", "售罄进度"),
        ("ops.skuCode", "SKU code", "SKU 编码"),
        ("ops.slowQueries", "Slow queries", "慢查询"),
        ("ops.starts", "Starts", "开始时间"),
        ("ops.state", "State", "状态"),
        ("ops.status", "Status", "状态"),
        ("ops.stock", "Stock", "库存"),
        ("ops.switch", "Switch", "开关"),
        ("ops.switches", "Switches", "开关"),
        ("ops.updatedAt", "Changed at", "变更时间"),
        ("ops.updatedBy", "Changed by", "变更人"),
        ("ops.value", "Value (fen or %)", "面值（分或 %）"),
        ("order.cancel", "Cancel order", "取消订单"),
        ("order.discount", "Discount", "优惠"),
        ("order.pay", "Pay now", "立即支付"),
        ("order.saveAddress", "Save address", "保存地址"),
        ("order.status", "Status", "状态"),
        ("order.subtotal", "Subtotal", "小计"),
        ("order.title", "Order", "订单详情"),
        ("order.total", "Total", "实付"),
        ("orders.empty", "No orders yet.", "还没有订单。"),
        ("orders.title", "My orders", "我的订单"),
        ("product.addToCart", "Add to cart", "加入购物车"),
        ("product.choose", "Choose", "选择规格"),
        ("product.quantity", "Quantity", "数量"),
        ("product.title", "Product", "商品详情"),
        ("register.emailOrPhone", "Email or phone", "邮箱或手机号"),
        ("register.link", "New here? Register", "新用户？注册"),
        ("register.nickname", "Nickname", "昵称"),
        ("register.submit", "Register", "注册"),
        ("register.title", "Register", "注册"),
        ("sale.hint", "One tap reserves a unit; the order follows within seconds.", "点击即可锁定名额，订单随后几秒生成。"),
        ("sale.title", "Flash sale", "秒杀"),
        ("search.more", "More", "加载更多"),
        ("search.placeholder", "Search products", "搜索商品"),
        ("search.sort", "Sort", "排序"),
        ("search.title", "Browse", "浏览"),
        ("sort.newest", "Newest", "最新"),
        ("sort.price_asc", "Price ↑", "价格从低到高"),
        ("sort.price_desc", "Price ↓", "价格从高到低"),
        ("sort.relevance", "Best match", "综合"),
        ("sort.sales", "Best selling", "销量"),
    ];
}
