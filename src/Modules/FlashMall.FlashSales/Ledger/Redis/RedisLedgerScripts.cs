using StackExchange.Redis;

namespace FlashMall.FlashSales.Ledger.Redis;

/// <summary>
/// A sale's keys. All carry the hash tag <c>{sale:ID}</c>, so a sale lives in one slot of a
/// Redis Cluster and one script can touch all of them.
/// </summary>
internal sealed class SaleKeys
{
    public SaleKeys(string prefix, Guid saleId)
    {
        var tag = $"{prefix}{{sale:{saleId:N}}}";
        Meta = $"{tag}:meta";
        Buyers = $"{tag}:buyers";
        Reservations = $"{tag}:reservations";
        Stream = $"{tag}:stream";
        RebuildLock = $"{tag}:rebuild";
        Reserve = [Meta, Buyers, Reservations, Stream];
        All = [Meta, Buyers, Reservations, Stream];
    }

    /// <summary>Hash: <c>stock</c> (free units), <c>limit</c>, <c>starts</c>/<c>ends</c> (Unix ms), <c>epoch</c>.</summary>
    public RedisKey Meta { get; }

    /// <summary>Hash: buyer (32 hex) → units held.</summary>
    public RedisKey Buyers { get; }

    /// <summary>Hash: reservation id (32 hex) → <c>buyer:units</c>, with <c>:x</c> appended once released.</summary>
    public RedisKey Reservations { get; }

    /// <summary>Stream of admitted reservations (<c>r</c>, <c>u</c>, <c>q</c>, <c>t</c>), read by the writers' consumer group.</summary>
    public RedisKey Stream { get; }

    /// <summary>Held (SET NX PX) by the one node rebuilding the sale from the database.</summary>
    public RedisKey RebuildLock { get; }

    public RedisKey[] Reserve { get; }

    public RedisKey[] All { get; }
}

/// <summary>The ledger's Lua scripts; each runs atomically in the sale's slot.</summary>
internal static class RedisLedgerScripts
{
    public const int Reserved = 1;
    public const int Replayed = 2;
    public const int KeyReused = 3;
    public const int SoldOut = -1;
    public const int LimitReached = -2;
    public const int NotStarted = -3;
    public const int Ended = -4;
    /// <summary>The sale's epoch is not the caller's (missing: Redis lost the keys; other: rebuilt since).</summary>
    public const int EpochChanged = -5;
    public const int BadArguments = -6;
    /// <summary>The release script does not know the reservation.</summary>
    public const int Unknown = 2;

    /// <summary>The SHA-1 of <see cref="Reserve"/>, as Redis names a cached script (EVALSHA).</summary>
#pragma warning disable CA5350 // SHA-1 is how Redis names scripts, not a security measure
    public static readonly byte[] ReserveHash = System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(Reserve));
#pragma warning restore CA5350

    /// <summary>
    /// Admits or refuses a batch of purchases of one sale, one after the other, atomically.
    /// KEYS: meta, buyers, reservations, stream. ARGV: epoch, now (Unix ms), most units per
    /// purchase (1–999), then five per purchase: buyer (32 lowercase hex); units (1–999 with no
    /// leading zero: they are written as given); reservation id (32 lowercase hex); <c>1</c> when
    /// the id comes from an Idempotency-Key, else <c>0</c> (a keyed purchase may be a retry, so the
    /// script looks for it; a fresh id cannot be, and costs no look); the purchase's W3C traceparent
    /// or an empty string (carried on the stream entry). Numbers are plain decimal digits (no sign,
    /// exponent, hex or spaces).
    /// <para>Returns one code per purchase, in order; or one code for the whole batch when the epoch
    /// is not the caller's, a key was lost (evicted or deleted: then the epoch goes too, and the sale
    /// is rebuilt), or the batch's own arguments are bad. Per purchase it checks, in order: its
    /// arguments, an earlier reservation with its id (replay), the window, the stock, the buyer's
    /// limit (the purchases before it in the batch counted); then takes the units, counts them to the
    /// buyer, records the reservation and appends it to the stream, the stock first, so a script
    /// stopped midway can only undersell. A refused purchase writes nothing, and no refusal writes
    /// anything but for dropping the epoch of a sale found incomplete.</para>
    /// <para>The epoch and the sale's terms are read once per batch: each <c>redis.call</c> costs the
    /// shard about a microsecond of its own, and each script call about two more.</para>
    /// </summary>
    public const string Reserve = """
        local m = redis.call('HMGET', KEYS[1], 'epoch', 'stock', 'limit', 'starts', 'ends')
        if m[1] ~= ARGV[1] then return -5 end
        if redis.call('EXISTS', KEYS[2], KEYS[3], KEYS[4]) ~= 3 then
          redis.call('HDEL', KEYS[1], 'epoch')
          return -5
        end
        local t = ARGV[2]
        if not string.find(t, '^%d+$') or not string.find(ARGV[3], '^%d%d?%d?$') or #ARGV < 8 or (#ARGV - 3) % 5 ~= 0 then return -6 end
        local now, most = tonumber(t), tonumber(ARGV[3])
        local stock, limit = tonumber(m[2]), tonumber(m[3])
        local window = 0
        if now < tonumber(m[4]) then window = -3 elseif now >= tonumber(m[5]) then window = -4 end
        local codes = {}
        for i = 4, #ARGV, 5 do
          local buyer, q, id, keyed, trace = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
          local code
          if not string.find(q, '^[1-9]%d?%d?$') or string.len(buyer) ~= 32 or string.find(buyer, '[^0-9a-f]')
            or string.len(id) ~= 32 or string.find(id, '[^0-9a-f]') or (keyed ~= '0' and keyed ~= '1') then
            code = -6
          else
            local units = tonumber(q)
            local earlier = keyed == '1' and redis.call('HGET', KEYS[3], id)
            if units > most then
              code = -6
            elseif earlier then
              if string.sub(earlier, 1, 32) == buyer and tonumber(string.match(earlier, '^%x+:(%d+)')) == units then code = 2 else code = 3 end
            elseif window ~= 0 then
              code = window
            elseif stock < units then
              code = -1
            elseif tonumber(redis.call('HGET', KEYS[2], buyer) or '0') + units > limit then
              code = -2
            else
              stock = stock - units
              redis.call('HINCRBY', KEYS[1], 'stock', '-' .. q)
              redis.call('HINCRBY', KEYS[2], buyer, q)
              redis.call('HSET', KEYS[3], id, buyer .. ':' .. q)
              if string.len(trace) > 0 and string.len(trace) <= 55 then
                redis.call('XADD', KEYS[4], '*', 'r', id, 'u', buyer, 'q', q, 't', t, 'p', trace)
              else
                redis.call('XADD', KEYS[4], '*', 'r', id, 'u', buyer, 'q', q, 't', t)
              end
              code = 1
            end
          end
          codes[#codes + 1] = code
        end
        return codes
        """;

    /// <summary>
    /// KEYS: meta, buyers, reservations. ARGV: reservation id. Gives a held reservation's units
    /// back once (marks it <c>:x</c>); 1 given back, 0 given back before, 2 unknown to Redis (it
    /// has drifted from the database: the caller has the sale rebuilt), -5 while the sale is being
    /// rebuilt (the caller retries later).
    /// </summary>
    public const string Release = """
        if not redis.call('HGET', KEYS[1], 'epoch') then return -5 end
        local v = redis.call('HGET', KEYS[3], ARGV[1])
        if not v then return 2 end
        if string.sub(v, -2) == ':x' then return 0 end
        local buyer = string.sub(v, 1, 32)
        local units = tonumber(string.match(v, '^%x+:(%d+)'))
        redis.call('HSET', KEYS[3], ARGV[1], v .. ':x')
        redis.call('HINCRBY', KEYS[1], 'stock', units)
        if redis.call('HINCRBY', KEYS[2], buyer, -units) <= 0 then redis.call('HDEL', KEYS[2], buyer) end
        return 1
        """;

    /// <summary>
    /// KEYS: meta, stream. Free units and the units in the stream (admitted, not yet written), or
    /// -1 for the latter past 10,000 entries (bounded work in the shard); nil when not loaded.
    /// </summary>
    public const string Count = """
        local stock = redis.call('HGET', KEYS[1], 'stock')
        if not stock then return nil end
        local inflight = 0
        local entries = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 10001)
        if #entries > 10000 then return { tonumber(stock), -1 } end
        for _, e in ipairs(entries) do
          local f = e[2]
          for i = 1, #f, 2 do if f[i] == 'q' then inflight = inflight + tonumber(f[i + 1]) end end
        end
        return { tonumber(stock), inflight }
        """;

    /// <summary>
    /// KEYS: rebuild lock, meta, then the keys to delete. ARGV: the lock's token. The first write
    /// of a rebuild: only while this node still holds the lock and the sale has no epoch (a node
    /// whose lock ran out, or that lost the race to another rebuild, changes nothing); 1 done, 0 not.
    /// </summary>
    public const string FencedDelete = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('HEXISTS', KEYS[2], 'epoch') == 1 then return 0 end
        redis.call('PEXPIRE', KEYS[1], 30000)
        for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
        return 1
        """;

    /// <summary>KEYS: rebuild lock, meta, a hash. ARGV: the lock's token, then field, value pairs. Fenced as <see cref="FencedDelete"/>.</summary>
    public const string FencedHashSet = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('HEXISTS', KEYS[2], 'epoch') == 1 then return 0 end
        redis.call('PEXPIRE', KEYS[1], 30000)
        redis.call('HSET', KEYS[3], unpack(ARGV, 2))
        return 1
        """;

    /// <summary>
    /// KEYS: meta, buyers, reservations, stream, rebuild lock. ARGV: stock, limit, starts, ends, epoch,
    /// expire-at (Unix ms), group, the lock's token. The last step of a rebuild, fenced as
    /// <see cref="FencedDelete"/>: the stream and its group exist, then the meta hash (and with it
    /// the epoch) appears and admission resumes. The keys expire a day after the sale ends
    /// (retries after the end still find their reservations until then). 1 opened, 0 not.
    /// </summary>
    public const string Open = """
        if redis.call('GET', KEYS[5]) ~= ARGV[8] or redis.call('HEXISTS', KEYS[1], 'epoch') == 1 then return 0 end
        if redis.call('EXISTS', KEYS[4]) == 0 then
          redis.call('XGROUP', 'CREATE', KEYS[4], ARGV[7], '$', 'MKSTREAM')
        else
          pcall(redis.call, 'XGROUP', 'CREATE', KEYS[4], ARGV[7], '0')
        end
        redis.call('HSET', KEYS[2], '_', 0)
        redis.call('HSET', KEYS[3], '_', 0)
        redis.call('HSET', KEYS[1], 'stock', ARGV[1], 'limit', ARGV[2], 'starts', ARGV[3], 'ends', ARGV[4], 'epoch', ARGV[5])
        for i = 1, 4 do redis.call('PEXPIREAT', KEYS[i], ARGV[6]) end
        return 1
        """;
}
