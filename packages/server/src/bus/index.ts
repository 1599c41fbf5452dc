export { startPersister, type Persister, type PersisterOptions } from './persister.js'
export { createRedisLog, type RedisLog, type RedisLogOptions } from './redis-log.js'
export { DEFAULT_REDIS_PREFIX, RedisKeys } from './redis-keys.js'
export { createStoreLog } from './store-log.js'
