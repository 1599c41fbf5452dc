export {
  attachSyncEndpoint,
  SYNC_PATH_PREFIX,
  type SyncEndpoint,
  type SyncEndpointOptions,
} from './sync-endpoint.js'
export { CLOSE_HANDSHAKE_TIMEOUT_MS, WebSocketPeer } from './websocket-peer.js'
