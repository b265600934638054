/* The Redis queue's state changes, each one Lua script run by the server as one atomic
 * step (EVAL), so that processes on several machines never see an item half moved.
 * Keys, under the prefix P ("fw:" NAME), all in ARGV[1]:
 *   P:seq           the last item id (INCR)
 *   P:jobs          the stream of queued items (field "id"); consumer group "workers"
 *   P:job:ID        the item: state payload key status result created started finished
 *                   attempts lost entry (its stream entry) consumer (its claimer) cancel
 *   P:ids           every item id (sorted set, score = id): the list
 *   P:state:STATE   the ids in each state (sorted sets): the lists by state, the counts
 *   P:key:KEY       the item id of an idempotency key
 *   P:notes:ID      what the item's runs answered (hash), P:files:ID its files (hash)
 *   P:msg           the channel of the processes' messages
 * Internal to queue_redis.c. */
#ifndef FW_QUEUE_REDIS_SCRIPTS_H
#define FW_QUEUE_REDIS_SCRIPTS_H

/* ARGV: P, payload, key ("": none), max queued (0: no bound), now.
 * {0, id} added, {1, id} the key's item, {2, 0} full. */
#define FW_REDIS_PUSH                                                                              \
    "local p, key = ARGV[1], ARGV[3]\n"                                                            \
    "if key ~= '' then\n"                                                                          \
    "  local old = redis.call('GET', p..':key:'..key)\n"                                           \
    "  if old then return {1, tonumber(old)} end\n"                                                \
    "end\n"                                                                                        \
    "local maxq = tonumber(ARGV[4])\n"                                                             \
    "if maxq > 0 and redis.call('ZCARD', p..':state:queued') >= maxq then return {2, 0} end\n"     \
    "local id = redis.call('INCR', p..':seq')\n"                                                   \
    "local e = redis.call('XADD', p..':jobs', '*', 'id', id)\n"                                    \
    "local k = p..':job:'..id\n"                                                                   \
    "redis.call('HSET', k, 'state', 'queued', 'payload', ARGV[2], 'created', ARGV[5],\n"           \
    "           'attempts', 0, 'entry', e)\n"                                                      \
    "if key ~= '' then\n"                                                                          \
    "  redis.call('HSET', k, 'key', key)\n"                                                        \
    "  redis.call('SET', p..':key:'..key, id)\n"                                                   \
    "end\n"                                                                                        \
    "redis.call('ZADD', p..':ids', id, id)\n"                                                      \
    "redis.call('ZADD', p..':state:queued', id, id)\n"                                             \
    "return {0, id}\n"

/* The entry (ARGV[3]) of item ARGV[2] was read (or claimed again) by consumer ARGV[4] at
 * ARGV[5]: 1 it runs there now, its attempts counted (and, taken over from a running
 * claimer, its lost runs); 0 the entry is stale (the item
 * ended, or was queued again under a newer entry): acknowledged and deleted. */
#define FW_REDIS_START                                                                             \
    "local p, id, entry = ARGV[1], ARGV[2], ARGV[3]\n"                                             \
    "local k = p..':job:'..id\n"                                                                   \
    "local st = redis.call('HGET', k, 'state')\n"                                                  \
    "if (st ~= 'queued' and st ~= 'running') or redis.call('HGET', k, 'entry') ~= entry then\n"    \
    "  redis.call('XACK', p..':jobs', 'workers', entry)\n"                                         \
    "  redis.call('XDEL', p..':jobs', entry)\n"                                                    \
    "  return 0\n"                                                                                 \
    "end\n"                                                                                        \
    "if st == 'running' then redis.call('HINCRBY', k, 'lost', 1) end\n"                            \
    "redis.call('ZREM', p..':state:queued', id)\n"                                                 \
    "redis.call('ZADD', p..':state:running', id, id)\n"                                            \
    "redis.call('HSET', k, 'state', 'running', 'started', ARGV[5], 'consumer', ARGV[4])\n"         \
    "redis.call('HINCRBY', k, 'attempts', 1)\n"                                                    \
    "return 1\n"

/* Consumer ARGV[3] ends item ARGV[2]: state ARGV[4], result ARGV[5] (ARGV[6] "1": there is
 * one), at ARGV[7]. 0 ended; 1 not its to end (ended already; claimed by another). */
#define FW_REDIS_FINISH                                                                            \
    "local p, id, me, state = ARGV[1], ARGV[2], ARGV[3], ARGV[4]\n"                                \
    "local k = p..':job:'..id\n"                                                                   \
    "local st = redis.call('HGET', k, 'state')\n"                                                  \
    "if not st or st == 'done' or st == 'failed' then return 1 end\n"                              \
    "if st == 'running' and redis.call('HGET', k, 'consumer') ~= me then return 1 end\n"           \
    "if st == 'cancelled' and redis.call('HEXISTS', k, 'result') == 1 then return 1 end\n"         \
    "redis.call('ZREM', p..':state:'..st, id)\n"                                                   \
    "redis.call('ZADD', p..':state:'..state, id, id)\n"                                            \
    "redis.call('HSET', k, 'state', state, 'finished', ARGV[7])\n"                                 \
    "if ARGV[6] == '1' then redis.call('HSET', k, 'result', ARGV[5]) end\n"                        \
    "local e = redis.call('HGET', k, 'entry')\n"                                                   \
    "if e then\n"                                                                                  \
    "  redis.call('XACK', p..':jobs', 'workers', e)\n"                                             \
    "  redis.call('XDEL', p..':jobs', e)\n"                                                        \
    "end\n"                                                                                        \
    "redis.call('DEL', p..':notes:'..id)\n"                                                        \
    "return 0\n"

/* Consumer ARGV[3] gives item ARGV[2] back (its run was interrupted, not ended): queued
 * again under a new entry. 1, or 0 when it is not its. */
#define FW_REDIS_REQUEUE                                                                           \
    "local p, id, me = ARGV[1], ARGV[2], ARGV[3]\n"                                                \
    "local k = p..':job:'..id\n"                                                                   \
    "if redis.call('HGET', k, 'state') ~= 'running' or\n"                                          \
    "   redis.call('HGET', k, 'consumer') ~= me then return 0 end\n"                               \
    "local e = redis.call('HGET', k, 'entry')\n"                                                   \
    "redis.call('XACK', p..':jobs', 'workers', e)\n"                                               \
    "redis.call('XDEL', p..':jobs', e)\n"                                                          \
    "local ne = redis.call('XADD', p..':jobs', '*', 'id', id)\n"                                   \
    "redis.call('HSET', k, 'state', 'queued', 'entry', ne)\n"                                      \
    "redis.call('HDEL', k, 'consumer')\n"                                                          \
    "redis.call('ZREM', p..':state:running', id)\n"                                                \
    "redis.call('ZADD', p..':state:queued', id, id)\n"                                             \
    "return 1\n"

/* A client cancels item ARGV[2] at ARGV[3]: 1 it was queued and is cancelled; 2 it runs:
 * its cancel flag is set (its claimer is told); 0 neither. */
#define FW_REDIS_CANCEL                                                                            \
    "local p, id = ARGV[1], ARGV[2]\n"                                                             \
    "local k = p..':job:'..id\n"                                                                   \
    "local st = redis.call('HGET', k, 'state')\n"                                                  \
    "if st == 'running' then redis.call('HSET', k, 'cancel', 1) return 2 end\n"                    \
    "if st ~= 'queued' then return 0 end\n"                                                        \
    "redis.call('ZREM', p..':state:queued', id)\n"                                                 \
    "redis.call('ZADD', p..':state:cancelled', id, id)\n"                                          \
    "redis.call('HSET', k, 'state', 'cancelled', 'finished', ARGV[3])\n"                           \
    "local e = redis.call('HGET', k, 'entry')\n"                                                   \
    "redis.call('XACK', p..':jobs', 'workers', e)\n"                                               \
    "redis.call('XDEL', p..':jobs', e)\n"                                                          \
    "return 1\n"

#endif
