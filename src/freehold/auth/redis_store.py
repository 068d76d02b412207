"""The shared budget store: Redis, for several ``freehold serve`` replicas.

Admission and settlement are each one Lua script, so every check-and-hold is atomic across
replicas (Redis runs a script to the end before any other command). Layout, under a prefix
(default ``freehold:``)::

    key:<id>          the key record (JSON)          keys       set of key ids
    rev:<id>          set once the key is revoked
    b:<bucket>        hash spent_nusd tokens requests held_nusd held_tokens
    h:<bucket>        sorted set: hold id → expiry   ha:<bucket>  hash: hold id → "nusd tokens"
    w:<window>        hash requests tokens (expires two minutes after its minute)

Amounts are integers (nano-dollars, tokens), added to Redis as the decimal strings Python
sent (never through a Lua number, whose ``tostring`` keeps 14 digits); Lua compares them as
doubles, exact below 2^53 (nine million dollars per bucket).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from freehold.auth.base import Admission, Counter, Hold, Refusal
from freehold.auth.keys import KeyRecord, from_json, to_json
from freehold.core.importer import import_string

#: Release one hold from its bucket (false when it is not held any more): KEYS b, ha.
#: A zero amount is skipped: ``-0`` is what Lua makes of it, and Redis refuses ``-0`` as an
#: integer, which once failed every settlement and expiry of a price-0 request's hold.
_RELEASE = """
local function decrement(b, field, amount)
  local value = tonumber(amount)
  if value ~= 0 then redis.call('HINCRBY', b, field, string.format('%d', -value)) end
end
local function release(b, ha, id)
  local amounts = redis.call('HGET', ha, id)
  if not amounts then return false end
  local sep = string.find(amounts, ' ')
  decrement(b, 'held_nusd', string.sub(amounts, 1, sep - 1))
  decrement(b, 'held_tokens', string.sub(amounts, sep + 1))
  redis.call('HDEL', ha, id)
  return true
end
"""

#: Drop a bucket's expired holds: KEYS b, h, ha; ARGV now.
_EXPIRE = (
    _RELEASE
    + """
local function expire(b, h, ha, now)
  local gone = redis.call('ZRANGEBYSCORE', h, '-inf', now)
  for _, id in ipairs(gone) do release(b, ha, id) end
  if #gone > 0 then redis.call('ZREMRANGEBYSCORE', h, '-inf', now) end
end
"""
)

# KEYS: (b, h, ha) per bucket, then the window hash (or a placeholder), then the key's revocation
#       marker (or a placeholder).
# ARGV: n, hold id, nusd, tokens, prompt tokens, now, expires, has window, rpm, tpm, window ttl,
#       then (limit_nusd, limit_tokens) per bucket; -1 means no limit.
_RESERVE = (
    _EXPIRE
    + """
local n = tonumber(ARGV[1])
local id, nusd, tokens, prompt = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local now, expires = tonumber(ARGV[6]), tonumber(ARGV[7])
local out = {}
if redis.call('EXISTS', KEYS[3*n+2]) == 1 then return {'revoked', 0, 0, 0, out} end
for i = 1, n do
  local b, h, ha = KEYS[3*i-2], KEYS[3*i-1], KEYS[3*i]
  expire(b, h, ha, now)
  local v = redis.call('HMGET', b, 'spent_nusd', 'tokens', 'requests', 'held_nusd', 'held_tokens')
  local spent, used = tonumber(v[1] or 0), tonumber(v[2] or 0)
  local held, held_tokens = tonumber(v[4] or 0), tonumber(v[5] or 0)
  local limit_nusd, limit_tokens = tonumber(ARGV[10 + 2*i]), tonumber(ARGV[11 + 2*i])
  table.insert(out, spent); table.insert(out, used); table.insert(out, tonumber(v[3] or 0))
  table.insert(out, held); table.insert(out, held_tokens)
  if limit_nusd >= 0 and spent + held + nusd > limit_nusd then
    return {'budget_usd', i, 0, 0, out}
  end
  if limit_tokens >= 0 and used + held_tokens + tokens > limit_tokens then
    return {'budget_tokens', i, 0, 0, out}
  end
end
local requests, wtokens = 0, 0
if tonumber(ARGV[8]) == 1 then
  local w = KEYS[3*n+1]
  local v = redis.call('HMGET', w, 'requests', 'tokens')
  requests, wtokens = tonumber(v[1] or 0), tonumber(v[2] or 0)
  local rpm, tpm = tonumber(ARGV[9]), tonumber(ARGV[10])
  if rpm >= 0 and requests + 1 > rpm then return {'rpm', 0, requests, wtokens, out} end
  if tpm >= 0 and wtokens + prompt > tpm then return {'tpm', 0, requests, wtokens, out} end
  redis.call('HINCRBY', w, 'requests', 1)
  redis.call('HINCRBY', w, 'tokens', ARGV[5])
  redis.call('EXPIRE', w, tonumber(ARGV[11]))
  requests, wtokens = requests + 1, wtokens + prompt
end
for i = 1, n do
  local b, h, ha = KEYS[3*i-2], KEYS[3*i-1], KEYS[3*i]
  redis.call('HINCRBY', b, 'held_nusd', ARGV[3])
  redis.call('HINCRBY', b, 'held_tokens', ARGV[4])
  redis.call('ZADD', h, expires, id)
  redis.call('HSET', ha, id, ARGV[3] .. ' ' .. ARGV[4])
  out[5*i-1] = out[5*i-1] + nusd
  out[5*i] = out[5*i] + tokens
end
return {'', 0, requests, wtokens, out}
"""
)

# KEYS: (b, h, ha) per bucket, then the window hash (if any).
# ARGV: n, hold id, nusd, tokens, has window, token correction for the window.
_SETTLE = (
    _RELEASE
    + """
local n = tonumber(ARGV[1])
local id = ARGV[2]
for i = 1, n do
  local b, h, ha = KEYS[3*i-2], KEYS[3*i-1], KEYS[3*i]
  if release(b, ha, id) then redis.call('ZREM', h, id) end
  redis.call('HINCRBY', b, 'spent_nusd', ARGV[3])
  redis.call('HINCRBY', b, 'tokens', ARGV[4])
  redis.call('HINCRBY', b, 'requests', 1)
end
if tonumber(ARGV[5]) == 1 and redis.call('EXISTS', KEYS[3*n+1]) == 1 then
  redis.call('HINCRBY', KEYS[3*n+1], 'tokens', ARGV[6])
end
return 1
"""
)

# KEYS: (b, h, ha) per bucket. ARGV: now.
_COUNTERS = (
    _EXPIRE
    + """
local out = {}
for i = 1, #KEYS / 3 do
  local b = KEYS[3*i-2]
  expire(b, KEYS[3*i-1], KEYS[3*i], tonumber(ARGV[1]))
  local v = redis.call('HMGET', b, 'spent_nusd', 'tokens', 'requests', 'held_nusd', 'held_tokens')
  for j = 1, 5 do table.insert(out, tonumber(v[j] or 0)) end
end
return out
"""
)

_WINDOW_TTL = 120


class RedisAuthStore:
    def __init__(self, url: str, prefix: str = "freehold:", max_connections: int = 64) -> None:
        pool_class: Any = import_string("redis.asyncio:BlockingConnectionPool", "redis")
        client_class: Any = import_string("redis.asyncio:Redis", "redis")
        # a bounded pool that makes a burst wait for a connection instead of failing
        pool = pool_class.from_url(
            url, decode_responses=True, max_connections=max_connections, timeout=10
        )
        self._redis: Any = client_class(connection_pool=pool)
        self._prefix = prefix
        self._reserve = self._redis.register_script(_RESERVE)
        self._settle = self._redis.register_script(_SETTLE)
        self._counters = self._redis.register_script(_COUNTERS)

    def _bucket_keys(self, name: str) -> list[str]:
        p = self._prefix
        return [f"{p}b:{name}", f"{p}h:{name}", f"{p}ha:{name}"]

    async def migrate(self) -> None:
        await self._redis.ping()

    async def save_key(self, key: KeyRecord) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(f"{self._prefix}key:{key.id}", json.dumps(to_json(key)))
            pipe.sadd(f"{self._prefix}keys", key.id)
            if key.revoked is not None:
                pipe.set(f"{self._prefix}rev:{key.id}", "1")
            await pipe.execute()

    async def key(self, key_id: str) -> KeyRecord | None:
        raw = await self._redis.get(f"{self._prefix}key:{key_id}")
        return from_json(json.loads(raw)) if raw else None

    async def keys(self) -> list[KeyRecord]:
        ids = sorted(await self._redis.smembers(f"{self._prefix}keys"))
        if not ids:
            return []
        raws = await self._redis.mget([f"{self._prefix}key:{i}" for i in ids])
        found = [from_json(json.loads(r)) for r in raws if r]
        return sorted(found, key=lambda k: (k.created, k.id))

    async def reserve(self, hold: Hold) -> Admission:
        keys = [k for b in hold.buckets for k in self._bucket_keys(b.name)]
        window = hold.window
        keys.append(f"{self._prefix}w:{window.name}" if window else f"{self._prefix}w:-")
        keys.append(f"{self._prefix}rev:{hold.key_id}" if hold.key_id else f"{self._prefix}rev:-")
        args: list[Any] = [
            len(hold.buckets),
            hold.id,
            hold.nusd,
            hold.tokens,
            hold.prompt_tokens,
            repr(hold.now),
            repr(hold.expires),
            int(window is not None),
            _limit(window.rpm if window else None),
            _limit(window.tpm if window else None),
            _WINDOW_TTL,
        ]
        for bucket in hold.buckets:
            args += [_limit(bucket.limit_nusd), _limit(bucket.limit_tokens)]
        refusal, index, requests, tokens, flat = await self._reserve(keys=keys, args=args)
        counters = _unflatten([b.name for b in hold.buckets], flat)
        reason: Refusal | None = refusal or None
        refused_by = hold.buckets[int(index) - 1].name if int(index) > 0 else None
        return Admission(reason, refused_by, counters, int(requests), int(tokens))

    async def settle(self, hold: Hold, nusd: int, tokens: int) -> None:
        keys = [k for b in hold.buckets for k in self._bucket_keys(b.name)]
        if hold.window is not None:
            keys.append(f"{self._prefix}w:{hold.window.name}")
        args = [
            len(hold.buckets),
            hold.id,
            nusd,
            tokens,
            int(hold.window is not None),
            tokens - hold.prompt_tokens,
        ]
        await self._settle(keys=keys, args=args)

    async def counters(self, names: Sequence[str], now: float) -> dict[str, Counter]:
        if not names:
            return {}
        keys = [k for name in names for k in self._bucket_keys(name)]
        flat = await self._counters(keys=keys, args=[repr(now)])
        return _unflatten(list(names), flat)

    async def aclose(self) -> None:
        await self._redis.aclose()
        await self._redis.connection_pool.disconnect()


def _limit(value: int | None) -> int:
    return -1 if value is None else value


def _unflatten(names: list[str], flat: Sequence[Any]) -> dict[str, Counter]:
    """Counters from the scripts' flat lists: five integers per bucket, in order."""
    numbers = [int(v) for v in flat]
    return {
        name: Counter(*numbers[5 * i : 5 * i + 5])
        for i, name in enumerate(names)
        if 5 * i + 5 <= len(numbers)
    }
