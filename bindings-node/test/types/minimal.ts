// The declarations stand alone: no DOM lib, no @types/node.
import AssessmentClient = require('smartai-events')

export async function poll(client: AssessmentClient): Promise<number> {
  const { events } = await client.getWebhookEvents({ limit: 10, since: new Date(1717200000000) })
  let passed = 0
  for (const e of events) if (e.event === 'assessment.completed' && e.passed) passed += 1
  return passed
}

// Without the DOM lib or @types/node, a handler's signal still has what the package gives.
export async function drainWithSignal(client: AssessmentClient): Promise<void> {
  await client.drain((_events, { signal }) => {
    const aborted: boolean = signal.aborted
    const reason: unknown = signal.reason
    signal.addEventListener('abort', () => {}, { once: true })
    console.log(aborted, reason)
  })
  await client.getWebhookEvents({ limit: 10n })
}

declare const console: { log(...args: unknown[]): void }
