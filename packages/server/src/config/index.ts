export {
  ConfigError,
  type OptionSpec,
  resolveServeConfig,
  SERVE_OPTIONS,
  type ServeConfig,
  type ServeOptionName,
} from './options.js'
