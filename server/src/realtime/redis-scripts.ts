import type { Socket } from "node:net";
import { Cluster } from "ioredis";
import { corkUntilNextTurn } from "../net/cork-until-next-turn.js";
import type { RedisClient } from "./redis-keys.js";

/**
 * The Lua scripts of the Redis-backed realtime modules, registered with ioredis `defineCommand`
 * (EVALSHA with a transparent EVAL fallback). Each script touches only keys of one user, all
 * carrying the same `{u:<id>}` hash tag, so it runs in one Redis Cluster slot — except the batch
 * append, which on a standalone Redis takes the events of several users in one call (and on a
 * Cluster is given one event at a time).
 *
 * Stream entry ids are `<seq>-<unix ms>`: the seq makes `since()` a single bounded XRANGE from
 * `<cursor.seq + 1>-0`, and the milliseconds let the append script trim by age. Redis accepts any
 * strictly increasing id, and `seq` only ever increases within an epoch.
 */

/** Helpers shared by the history scripts (each user's meta hash and stream passed in). */
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
local function ensure_epoch(meta, stream, fresh_epoch, ttl_ms)
  local epoch = redis.call('HGET', meta, 'epoch')
  if not epoch then
    epoch = fresh_epoch
    redis.call('DEL', stream)
    redis.call('HSET', meta, 'epoch', epoch, 'seq', 0)
  end
  redis.call('PEXPIRE', meta, ttl_ms)
  return epoch
end
-- A user's history opened for appending: {epoch, old} read in one HMGET (a missing meta hash
-- starts a new epoch, as ensure_epoch does). 'old' is the time of the stream's oldest entry when
-- last looked at: entries only ever leave from the oldest end, so the real oldest is never older
-- than it, and append() reads the stream's oldest entry only once 'old' is past the age cutoff
-- or missing (a history made by ensure_epoch or by an older version). Each look was an XRANGE
-- and its entry converted into Lua on every append.
local function open_history(meta, stream, fresh_epoch, now)
  local found = redis.call('HMGET', meta, 'epoch', 'old')
  if not found[1] then
    redis.call('DEL', stream)
    redis.call('HSET', meta, 'epoch', fresh_epoch, 'seq', 0, 'old', now)
    return {epoch = fresh_epoch, old = now, meta = meta, stream = stream, expiry_set = false}
  end
  return {epoch = found[1], old = tonumber(found[2]), meta = meta, stream = stream, expiry_set = false}
end
-- One entry: seq and XADD in one step; length trimmed with MAXLEN ~, age trimmed from the oldest
-- end in bounded steps (at most 100 entries looked at). The first append to a history in a call
-- sets both keys to expire max_age after it; later ones in the same call carry the same time
-- ('now', in their ids), so that expiry is already max_age after them, give or take the call's
-- own fraction of a millisecond. Each command is written before the next one
-- runs, so a call that fails half-way (out of memory) leaves every history as consistent as one
-- append at a time did.
local function append(h, payload, max_len, max_age, now)
  local seq = redis.call('HINCRBY', h.meta, 'seq', 1)
  redis.call('XADD', h.stream, 'MAXLEN', '~', max_len, string.format('%d-%d', seq, now), 'e', payload)
  local cutoff = now - max_age
  if not h.old or h.old < cutoff then
    local oldest = redis.call('XRANGE', h.stream, '-', '+', 'COUNT', 1)
    if oldest[1] and entry_ms(oldest[1][1]) < cutoff then
      local batch = redis.call('XRANGE', h.stream, '-', '+', 'COUNT', 100)
      local min_id = string.format('%d-0', entry_seq(batch[#batch][1]) + 1)
      for _, entry in ipairs(batch) do
        if entry_ms(entry[1]) >= cutoff then min_id = entry[1] break end
      end
      redis.call('XTRIM', h.stream, 'MINID', min_id)
      oldest = redis.call('XRANGE', h.stream, '-', '+', 'COUNT', 1)
    end
    h.old = oldest[1] and entry_ms(oldest[1][1]) or now
    redis.call('HSET', h.meta, 'old', h.old)
  end
  if not h.expiry_set then
    h.expiry_set = true
    redis.call('PEXPIRE', h.meta, max_age)
    redis.call('PEXPIRE', h.stream, max_age)
  end
  return seq
end
`;

/** KEYS[1] = history meta hash, KEYS[2] = stream. ARGV: payload, maxLen, maxAgeMs, freshEpoch → {epoch, seq}. */
const HISTORY_APPEND = `${HISTORY_PRELUDE}
local now, max_age = now_ms(), tonumber(ARGV[3])
local h = open_history(KEYS[1], KEYS[2], ARGV[4], now)
return {h.epoch, append(h, ARGV[1], ARGV[2], max_age, now)}
`;

/**
 * Append and route several events in one call (a turn's worth, from any users): KEYS = for each
 * event its user's history meta hash, stream and owner hash; ARGV: maxLen, maxAgeMs, freshEpoch,
 * channelPrefix, callerInstanceId, then per event its payload and user id →
 * {epoch1, seq1, here1, epoch2, seq2, here2, …}, in event order (a user's events keep their order).
 * Each event is the append above, then the route: when the user's socket is on the calling
 * instance (`here` = 1) nothing is published — the caller delivers from this reply, without a
 * pub/sub round trip and a second decode; otherwise the instance-channel message is the one
 * `RedisEventBus.publish` sends — `{"k":"e","u":<userId>,"s":{"epoch","seq","event"}}` — built
 * around the payload (already JSON) without decoding it. On Redis Cluster one call carries one
 * user's keys only (one slot); a standalone Redis takes any mix.
 */
const HISTORY_APPEND_AND_ROUTE_MANY = `${HISTORY_PRELUDE}
local max_len, max_age, fresh_epoch, prefix, caller = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local now = now_ms()
local out = {}
-- A user with several events in the call (a message's recipient gets the message and the unread
-- count) is opened and routed once: the HMGET, the owner's HGET and the two PEXPIREs.
local open, owners = {}, {}
for i = 0, #KEYS / 3 - 1 do
  local payload, user, meta = ARGV[6 + 2 * i], ARGV[7 + 2 * i], KEYS[3 * i + 1]
  local h = open[meta]
  if not h then
    h = open_history(meta, KEYS[3 * i + 2], fresh_epoch, now)
    open[meta] = h
    owners[meta] = redis.call('HGET', KEYS[3 * i + 3], 'inst') or false
  end
  local seq = append(h, payload, max_len, max_age, now)
  local epoch, instance = h.epoch, owners[meta]
  local here = 0
  if instance == caller then
    here = 1
  elseif instance then
    redis.call('PUBLISH', prefix .. instance, '{"k":"e","u":' .. user .. ',"s":{"epoch":' .. cjson.encode(epoch) .. ',"seq":' .. string.format('%d', seq) .. ',"event":' .. payload .. '}}')
  end
  out[#out + 1] = epoch
  out[#out + 1] = seq
  out[#out + 1] = here
end
return out
`;

/** ARGV: freshEpoch, maxAgeMs → {epoch, seq}. */
const HISTORY_HEAD = `${HISTORY_PRELUDE}
local epoch = ensure_epoch(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]))
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
local epoch = ensure_epoch(KEYS[1], KEYS[2], ARGV[4], max_age)
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
  switchboardHistoryAppendAndRouteMany: HISTORY_APPEND_AND_ROUTE_MANY,
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
  /** `keys` = [meta, stream, owner] per event; `events` = [payload, userId] per event → [epoch, seq, here] per event, flat. */
  historyAppendAndRouteMany(
    keys: string[],
    maxLen: number,
    maxAgeMs: number,
    freshEpoch: string,
    channelPrefix: string,
    callerInstanceId: string,
    events: ScriptArgument[],
  ): Promise<(string | number)[]>;
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
  // null: a variable number of keys, given as the first argument.
  const keyCounts: Record<ScriptName, number | null> = {
    switchboardHistoryAppend: 2,
    switchboardHistoryAppendAndRouteMany: null,
    switchboardHistoryHead: 2,
    switchboardHistorySince: 2,
    switchboardOwnerClaim: 1,
    switchboardOwnerRelease: 1,
    switchboardOwnerAdopt: 1,
    switchboardRouteToOwner: 1,
  };
  for (const name of Object.keys(DEFINITIONS) as ScriptName[]) {
    if (typeof commands[name] !== "function") {
      const numberOfKeys = keyCounts[name];
      redis.defineCommand(name, numberOfKeys === null ? { lua: DEFINITIONS[name] } : { numberOfKeys, lua: DEFINITIONS[name] });
    }
  }
  // The scripts of one turn (a message's three events, a storm's claims) leave in one `writev`
  // instead of a write syscall each. Not ioredis auto-pipelining: see `duplicateForCommands`. A
  // Cluster client writes to one socket per node: left as it is. (`stream` is replaced on every
  // reconnect, so it is read per call.)
  const standalone = !(redis instanceof Cluster);
  const call = <T>(name: ScriptName, ...args: ScriptArgument[]): Promise<T> => {
    if (standalone) corkUntilNextTurn((redis as unknown as { stream?: Socket }).stream);
    return commands[name]!(...args) as Promise<T>;
  };
  // The batch append is sent from a setImmediate callback (the turn's events, gathered): corked
  // there, it would wait for the next turn's uncork — a whole loop iteration. It is one command
  // anyway.
  const callUncorked = <T>(name: ScriptName, ...args: ScriptArgument[]): Promise<T> => commands[name]!(...args) as Promise<T>;
  return {
    historyAppend: (...args) => call("switchboardHistoryAppend", ...args),
    historyAppendAndRouteMany: (keys, maxLen, maxAgeMs, freshEpoch, channelPrefix, callerInstanceId, events) =>
      callUncorked("switchboardHistoryAppendAndRouteMany", keys.length, ...keys, maxLen, maxAgeMs, freshEpoch, channelPrefix, callerInstanceId, ...events),
    historyHead: (...args) => call("switchboardHistoryHead", ...args),
    historySince: (...args) => call("switchboardHistorySince", ...args),
    ownerClaim: (...args) => call("switchboardOwnerClaim", ...args),
    ownerRelease: (...args) => call("switchboardOwnerRelease", ...args),
    ownerAdopt: (...args) => call("switchboardOwnerAdopt", ...args),
    routeToOwner: (...args) => call("switchboardRouteToOwner", ...args),
  };
}
