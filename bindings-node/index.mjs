// ESM entry point: `import AssessmentClient, { Emulator, SmartAIError } from 'smartai-events'`.
import AssessmentClient from './index.js'

export default AssessmentClient
export const {
  SmartAIError,
  InvalidArgumentError,
  ConfigurationError,
  AuthenticationError,
  RateLimitedError,
  InvalidRequestError,
  NotFoundError,
  ServerError,
  TimeoutError,
  NetworkError,
  DecodeError,
  HandlerError,
  CancelledError,
  BatchIterator,
  Emulator,
  maskApiKey,
  setLogger,
} = AssessmentClient
export { AssessmentClient }
