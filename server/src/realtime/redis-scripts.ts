import type { RedisClient } from "./redis-keys.js";

/**
 * The Lua scripts of the Redis-backed realtime modules, registered with ioredis `defineCommand`
 * (EVALSHA with a transparent EVAL fallback). Each script touches only keys of one user, all
 * carrying the same `{u:<id>}` hash tag, so it runs in one Redis Cluster slot.
 *
 * Stream entry ids are `<seq>-<unix ms>`: the seq makes `since()` a single bounded XRANGE from
 * `<cursor.seq + 1>-0`, and the milliseconds let the append script trim by age. Redis accepts any
 * strictly increasing id, and `seq` only ever increases within an epoch.
 */

/** Helpers shared by the history scripts. KEYS[1] = history meta hash, KEYS[2] = stream. */
const HISTORY_PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function entry_seq(id)
  return tonumber(string.sub(id, 1, string.find(id, '-', 1, true) - 1))
end
local function entry_ms(id)
  return tonumber(string.sub(id, string.find(id, '-', 1, true) + 1))
end
-- The user's epoch; a missing meta hash (first use, expiry, a Redis restart) starts a new epoch
-- with an empty stream, so an old cursor can never be mistaken for a covered one.
local function ensure_epoch(fresh_epoch, ttl_ms)
  local epoch = redis.call('HGET', KEYS[1], 'epoch')
  if not epoch then
    epoch = fresh_epoch
    redis.call('DEL', KEYS[2])
    redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', 0)
  end
  redis.call('PEXPIRE', KEYS[1], ttl_ms)
  return epoch
end
`;

/**
 * ARGV: payload, maxLen, maxAgeMs, freshEpoch → {epoch, seq}.
 * Seq and XADD in one step; length trimmed with `MAXLEN ~`, age trimmed from the oldest end in
 * bounded steps (at most 100 entries looked at per append), the keys expire `maxAgeMs` after the
 * last append.
 */
const HISTORY_APPEND_BODY = `
local max_age = tonumber(ARGV[3])
local epoch = ensure_epoch(ARGV[4], max_age)
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local now = now_ms()
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], string.format('%d-%d', seq, now), 'e', ARGV[1])
local cutoff = now - max_age
local oldest = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
if oldest[1] and entry_ms(oldest[1][1]) < cutoff then
  local batch = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 100)
  local min_id = string.format('%d-0', entry_seq(batch[#batch][1]) + 1)
  for _, entry in ipairs(batch) do
    if entry_ms(entry[1]) >= cutoff then min_id = entry[1] break end
  end
  redis.call('XTRIM', KEYS[2], 'MINID', min_id)
end
redis.call('PEXPIRE', KEYS[2], max_age)
`;

const HISTORY_APPEND = `${HISTORY_PRELUDE}${HISTORY_APPEND_BODY}
return {epoch, seq}
`;

/**
 * KEYS[3] = owner hash. ARGV: payload, maxLen, maxAgeMs, freshEpoch, channelPrefix, userId →
 * {epoch, seq}. The append above, then the route below, in one script: one round trip (and the
 * payload sent once) per event instead of two. The instance-channel message is the one
 * `RedisEventBus.publish` sends — `{"k":"e","u":<userId>,"s":{"epoch","seq","event"}}` — built
 * around the payload (already JSON) without decoding it.
 */
const HISTORY_APPEND_AND_ROUTE = `${HISTORY_PRELUDE}${HISTORY_APPEND_BODY}
local instance = redis.call('HGET', KEYS[3], 'inst')
if instance then
  redis.call('PUBLISH', ARGV[5] .. instance, '{"k":"e","u":' .. ARGV[6] .. ',"s":{"epoch":' .. cjson.encode(epoch) .. ',"seq":' .. string.format('%d', seq) .. ',"event":' .. ARGV[1] .. '}}')
end
return {epoch, seq}
`;

/** ARGV: freshEpoch, maxAgeMs → {epoch, seq}. */
const HISTORY_HEAD = `${HISTORY_PRELUDE}
local epoch = ensure_epoch(ARGV[1], tonumber(ARGV[2]))
return {epoch, tonumber(redis.call('HGET', KEYS[1], 'seq'))}
`;

/**
 * ARGV: cursorEpoch, cursorSeq, limit, freshEpoch, maxAgeMs →
 * {recovered (0|1), epoch, headSeq, seq1, payload1, seq2, payload2, ...} (at most `limit` pairs).
 * Not recovered when the epoch differs, the cursor is ahead of the head, or the entry right
 * after the cursor is gone (trimmed by length or older than maxAgeMs).
 */
const HISTORY_SINCE = `${HISTORY_PRELUDE}
local max_age = tonumber(ARGV[5])
local epoch = ensure_epoch(ARGV[4], max_age)
local head = tonumber(redis.call('HGET', KEYS[1], 'seq'))
local from = tonumber(ARGV[2])
if epoch ~= ARGV[1] or from > head then return {0, epoch, head} end
if from == head then return {1, epoch, head} end
local entries = redis.call('XRANGE', KEYS[2], string.format('%d-0', from + 1), '+', 'COUNT', tonumber(ARGV[3]))
local first = entries[1]
if not first or entry_seq(first[1]) ~= from + 1 or entry_ms(first[1]) < now_ms() - max_age then
  return {0, epoch, head}
end
local out = {1, epoch, head}
for _, entry in ipairs(entries) do
  out[#out + 1] = entry_seq(entry[1])
  out[#out + 1] = entry[2][2]
end
return out
`;

/**
 * KEYS[1] = owner hash. ARGV: instanceId, connId, channelPrefix, userId →
 * {generation} or {generation, previousInstanceId, previousConnId}.
 * Compare-and-set in one step: the generation counter and the owner live in the same hash. A
 * previous owner on another instance is told in the same step (PUBLISH on its instance
 * channel), so a crash between "claim" and "notify" cannot leave two open sockets.
 */
const OWNER_CLAIM = `
local previous = redis.call('HMGET', KEYS[1], 'inst', 'conn')
local generation = redis.call('HINCRBY', KEYS[1], 'gen', 1)
redis.call('HSET', KEYS[1], 'inst', ARGV[1], 'conn', ARGV[2])
if previous[2] and previous[2] ~= ARGV[2] then
  if previous[1] ~= ARGV[1] then
    redis.call('PUBLISH', ARGV[3] .. previous[1], cjson.encode({k = 'r', u = tonumber(ARGV[4]), c = previous[2]}))
  end
  return {generation, previous[1], previous[2]}
end
return {generation}
`;

/** KEYS[1] = owner hash. ARGV: connId → 1 when released, 0 when the record is someone else's. */
const OWNER_RELEASE = `
if redis.call('HGET', KEYS[1], 'conn') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'inst', 'conn')
  return 1
end
return 0
`;

/**
 * KEYS[1] = owner hash. ARGV: instanceId, connId, generation → 1 when the record is (now) this
 * connection, 0 when another connection owns it. Used after a Redis outage to put back the
 * sockets an instance kept serving; never takes a record from another connection, and keeps
 * the generation counter at least as high as what this instance handed out.
 */
const OWNER_ADOPT = `
local generation = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0')
if generation < tonumber(ARGV[3]) then redis.call('HSET', KEYS[1], 'gen', ARGV[3]) end
local current = redis.call('HGET', KEYS[1], 'conn')
if not current then
  redis.call('HSET', KEYS[1], 'inst', ARGV[1], 'conn', ARGV[2])
  return 1
end
if current == ARGV[2] then return 1 end
return 0
`;

/** KEYS[1] = owner hash. ARGV: channelPrefix, message → 1 when the user has an owner (published). */
const ROUTE_TO_OWNER = `
local instance = redis.call('HGET', KEYS[1], 'inst')
if instance then
  redis.call('PUBLISH', ARGV[1] .. instance, ARGV[2])
  return 1
end
return 0
`;

const DEFINITIONS = {
  switchboardHistoryAppend: HISTORY_APPEND,
  switchboardHistoryAppendAndRoute: HISTORY_APPEND_AND_ROUTE,
  switchboardHistoryHead: HISTORY_HEAD,
  switchboardHistorySince: HISTORY_SINCE,
  switchboardOwnerClaim: OWNER_CLAIM,
  switchboardOwnerRelease: OWNER_RELEASE,
  switchboardOwnerAdopt: OWNER_ADOPT,
  switchboardRouteToOwner: ROUTE_TO_OWNER,
} as const;

type ScriptName = keyof typeof DEFINITIONS;
type ScriptArgument = string | number;

export interface RealtimeScripts {
  historyAppend(meta: string, stream: string, payload: string, maxLen: number, maxAgeMs: number, freshEpoch: string): Promise<[string, number]>;
  historyAppendAndRoute(
    meta: string,
    stream: string,
    owner: string,
    payload: string,
    maxLen: number,
    maxAgeMs: number,
    freshEpoch: string,
    channelPrefix: string,
    userId: number,
  ): Promise<[string, number]>;
  historyHead(meta: string, stream: string, freshEpoch: string, maxAgeMs: number): Promise<[string, number]>;
  historySince(
    meta: string,
    stream: string,
    epoch: string,
    seq: number,
    limit: number,
    freshEpoch: string,
    maxAgeMs: number,
  ): Promise<[number, string, number, ...(number | string)[]]>;
  ownerClaim(owner: string, instanceId: string, connId: string, channelPrefix: string, userId: number): Promise<[number] | [number, string, string]>;
  ownerRelease(owner: string, connId: string): Promise<number>;
  ownerAdopt(owner: string, instanceId: string, connId: string, generation: number): Promise<number>;
  routeToOwner(owner: string, channelPrefix: string, message: string): Promise<number>;
}

/** Registers the scripts on `redis` (once per client) and returns them typed. */
export function realtimeScripts(redis: RedisClient): RealtimeScripts {
  const commands = redis as unknown as Record<string, ((...args: ScriptArgument[]) => Promise<unknown>) | undefined>;
  const keyCounts: Record<ScriptName, number> = {
    switchboardHistoryAppend: 2,
    switchboardHistoryAppendAndRoute: 3,
    switchboardHistoryHead: 2,
    switchboardHistorySince: 2,
    switchboardOwnerClaim: 1,
    switchboardOwnerRelease: 1,
    switchboardOwnerAdopt: 1,
    switchboardRouteToOwner: 1,
  };
  for (const name of Object.keys(DEFINITIONS) as ScriptName[]) {
    if (typeof commands[name] !== "function") redis.defineCommand(name, { numberOfKeys: keyCounts[name], lua: DEFINITIONS[name] });
  }
  const call = <T>(name: ScriptName, ...args: ScriptArgument[]): Promise<T> => commands[name]!(...args) as Promise<T>;
  return {
    historyAppend: (...args) => call("switchboardHistoryAppend", ...args),
    historyAppendAndRoute: (...args) => call("switchboardHistoryAppendAndRoute", ...args),
    historyHead: (...args) => call("switchboardHistoryHead", ...args),
    historySince: (...args) => call("switchboardHistorySince", ...args),
    ownerClaim: (...args) => call("switchboardOwnerClaim", ...args),
    ownerRelease: (...args) => call("switchboardOwnerRelease", ...args),
    ownerAdopt: (...args) => call("switchboardOwnerAdopt", ...args),
    routeToOwner: (...args) => call("switchboardRouteToOwner", ...args),
  };
}
