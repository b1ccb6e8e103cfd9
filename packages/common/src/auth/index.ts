export { Credentials, type Principal } from './credentials.js';
export { AuthThrottle, type AuthThrottleOptions } from './throttle.js';
export { httpAuth, type HttpAuthOptions } from './middleware.js';
export { routeScope } from './scopes.js';
export { UnauthorizedError, ForbiddenError, TooManyAuthFailuresError, BodyTooLargeError, authErrorHeaders } from './errors.js';
