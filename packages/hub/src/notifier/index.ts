export { Notifier, type NotifierOptions, type AlertStatus } from './notifier.js';
export { notifierRoutes } from './api.js';
export { parseNotifierConfig, notifierConfigFromHub, type NotifierConfig, type RouteConfig, type ReceiverConfig, type InhibitRuleConfig, type WebhookConfig, type EmailConfig } from './config.js';
export { Silences, SilenceError, type Silence, type SilenceMatcher, type SilenceState } from './silences.js';
export { fingerprint, type NotifierAlert } from './alert.js';
export { buildMessage, type WebhookMessage, type WebhookAlert, type Integration } from './data.js';
export { parseMatchers } from './matchers.js';
export { AlertmanagerForwarder, toPostableAlerts } from './forward.js';
