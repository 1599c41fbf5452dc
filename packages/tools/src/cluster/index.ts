export {
  type ClusterNode,
  findFreePort,
  type LocalCluster,
  type LocalClusterOptions,
  startLocalCluster,
} from './local-cluster.js'
export { renderNginxConfig, type NginxConfigOptions } from './nginx-config.js'
