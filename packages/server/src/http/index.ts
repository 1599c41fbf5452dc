export { createHttpApp, type HealthSource } from './http-app.js'
