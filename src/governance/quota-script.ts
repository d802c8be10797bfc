/**
 * The rolling-window check as one Redis Lua script: prune + count + record + expiry run atomically on the server,
 * so any number of hub processes sharing one Redis never admit more than the limit.
 *
 * One call carries a batch of checks (the concurrent calls of one event-loop turn): they run one after another
 * inside the script, so two checks of the same key see each other exactly as two separate calls would, and the
 * script's fixed cost on the server is paid once per batch. Within a batch a key is pruned, counted, given its expiry
 * and asked for its oldest call once (per window): the checks after the first only add their call, since nothing else
 * can change the set while the script runs. Concurrent calls mostly share one tool's key, so a batch costs little
 * more Redis work than a single check.
 *
 * Time comes from the Redis server (TIME), not from the callers: replicas with skewed clocks then agree on one
 * window, and a caller whose clock jumps cannot shorten or stretch it. Scores are microseconds since the epoch
 * (< 2^53, exact in a double); members are "<µs>:<caller nonce>" so two calls in the same microsecond stay distinct.
 *
 * KEYS[i] the counter key of check i. ARGV[4i-3..4i]: limit, window (ms), record ("1" take / "0" peek), nonce.
 * Returns, per check, {allowed 0|1, used, µs until the oldest call leaves, µs until one more call fits}, flattened.
 * Peek ("0") only reads: it counts with ZCOUNT instead of pruning.
 */
export const QUOTA_SCRIPT = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
-- Lua 5.1 prints large numbers in %.14g; integers are formatted explicitly to keep every microsecond.
local function int(n) return string.format('%.0f', n) end
local now_s = int(now)
local out = {}
-- What this batch knows of a key it has pruned: {window, used, oldest score or nil, expiry set}. Only take checks
-- (record "1") use it; a take with another window on the same key starts over from the set itself.
local known = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local a = (i - 1) * 4
  local limit = tonumber(ARGV[a + 1])
  local window_ms = tonumber(ARGV[a + 2])
  local record = ARGV[a + 3] == '1'
  local window = window_ms * 1000
  local cutoff = int(now - window)
  local floor = '(' .. cutoff
  local k = nil
  local used
  if record then
    k = known[key]
    if k == nil or k.window ~= window then
      redis.call('ZREMRANGEBYSCORE', key, '-inf', cutoff)
      k = { window = window, used = redis.call('ZCARD', key), oldest = nil, expiry = false }
      known[key] = k
    end
    used = k.used
  else
    used = redis.call('ZCOUNT', key, floor, '+inf')
  end
  local allowed = 0
  if used < limit then
    allowed = 1
    if record then
      redis.call('ZADD', key, now_s, now_s .. ':' .. ARGV[a + 4])
      -- Every take of the batch would set the same expiry (one clock reading): once is enough.
      if not k.expiry then
        redis.call('PEXPIRE', key, int(window_ms + 1))
        k.expiry = true
      end
      used = used + 1
      k.used = used
      if k.oldest ~= nil and now < k.oldest then k.oldest = now end
    end
  end
  local oldest_us = 0
  if used > 0 then
    -- Once pruned the set holds exactly the window, so its first member is the oldest call (no score search).
    if record then
      if k.oldest == nil then k.oldest = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]) end
      oldest_us = k.oldest + window - now
    else
      local first = redis.call('ZRANGEBYSCORE', key, floor, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
      oldest_us = tonumber(first[2]) + window - now
    end
  end
  local retry_us = 0
  if allowed == 0 then
    retry_us = window
    if limit > 0 then
      local blocking = redis.call('ZRANGEBYSCORE', key, floor, '+inf', 'WITHSCORES', 'LIMIT', used - limit, 1)
      if blocking[2] then retry_us = tonumber(blocking[2]) + window - now end
    end
  end
  out[a + 1] = allowed
  out[a + 2] = used
  out[a + 3] = oldest_us
  out[a + 4] = retry_us
end
return out
`;
