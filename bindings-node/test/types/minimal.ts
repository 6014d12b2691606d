// The declarations stand alone: no DOM lib, no @types/node.
import AssessmentClient = require('smartai-events')

export async function poll(client: AssessmentClient): Promise<number> {
  const { events } = await client.getWebhookEvents({ limit: 10, since: new Date(1717200000000) })
  let passed = 0
  for (const e of events) if (e.event === 'assessment.completed' && e.passed) passed += 1
  return passed
}
