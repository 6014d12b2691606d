// The ESM entry point's types.
import AssessmentClient, { Emulator, SmartAIError, type WebhookEvent } from 'smartai-events'
import * as ns from 'smartai-events'

const client = new AssessmentClient({ apiKey: 'wc_ak_test_x', secretKey: 'y' })
const named = new ns.AssessmentClient({ apiKey: 'wc_ak_test_x', secretKey: 'y' })
const handler = (events: WebhookEvent[]): void => {
  for (const e of events) {
    if (e.decodeError !== undefined) continue
    if (e.event === 'assessment.completed') console.log(e.candidateEmail.toLowerCase())
  }
}
void client.drain(handler)
void named
void Emulator.start()
const err: Error = new SmartAIError('x')
void err
