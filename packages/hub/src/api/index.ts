export { queryRoutes, resultJson, MAX_POINTS_PER_SERIES, type QueryRoutesDeps } from './query.js';
export { toApiError, apiError, type ApiError, type ErrorType } from './errors.js';
export { parseTime, parseDurationParam, Params } from './params.js';
export { agentRoutes } from './agents.js';
export { importRoutes } from './import.js';
