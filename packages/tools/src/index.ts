export * from './replay/index.js'
export * from './traces/index.js'
export * from './cluster/index.js'
