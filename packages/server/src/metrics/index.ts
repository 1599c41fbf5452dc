/** Prometheus metrics of a node. */
export { closeReasonLabel } from './close-reasons.js'
export { type MetricSources, NodeMetrics } from './node-metrics.js'
