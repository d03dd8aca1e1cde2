// Drives a node with the real npm client streamr-client (0.12.2 and 0.11.2), as client-protocol.md asks:
// create a stream over REST, getOrCreate by name, update, produce over WebSocket, subscribe
// realtime and with resend_last, read the 3 owner permissions, delete.
// Usage: node client-flow.js REST_URL WS_URL ADMIN_KEY   (prints OK and exits 0 on success)
const StreamrClient = require('streamr-client')
const assert = require('assert')

const [, , restUrl, wsUrl, adminKey] = process.argv

function within(ms, what, promise) {
  return Promise.race([promise, new Promise((_, rej) => setTimeout(() => rej(new Error('timeout: ' + what)), ms))])
}

async function main() {
  const keyRes = await fetch(restUrl + '/keys', {
    method: 'POST',
    headers: { Authorization: 'token ' + adminKey, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'js-client' }),
  })
  assert.strictEqual(keyRes.status, 200, 'POST /keys')
  const apiKey = (await keyRes.json()).id
  const options = { url: wsUrl, restUrl, apiKey, autoConnect: true, autoDisconnect: false }
  const client = new StreamrClient(options)

  const name = 'js-' + Date.now()
  const created = await client.createStream({ name, description: 'made by streamr-client' })
  assert.strictEqual(created.id.length, 22)
  const same = await client.getOrCreateStream({ name })
  assert.strictEqual(same.id, created.id, 'getOrCreateStream finds the stream by name')
  same.description = 'updated'
  const updated = await same.update()
  assert.strictEqual(updated.description, 'updated')
  // Listeners are added only now: Stream.update() serializes the client along with the stream,
  // and an 'error' listener (eventemitter3 keeps its context) makes that circular.
  client.on('error', (e) => { console.error('client error', e); process.exit(2) })

  const realtime = []
  await within(10000, 'subscribed', new Promise((resolve) => {
    const sub = client.subscribe({ stream: created.id }, (msg) => realtime.push(msg))
    sub.on('subscribed', resolve)
  }))
  for (let n = 1; n <= 3; n++) {
    await client.produceToStream(created.id, { n })
  }
  await within(10000, 'three realtime events', (async () => {
    while (realtime.length < 3) await new Promise((r) => setTimeout(r, 20))
  })())
  assert.deepStrictEqual(realtime, [{ n: 1 }, { n: 2 }, { n: 3 }])

  const client2 = new StreamrClient(options)
  client2.on('error', (e) => { console.error('client2 error', e); process.exit(2) })
  const resent = []
  await within(10000, 'resent', new Promise((resolve, reject) => {
    const sub = client2.subscribe({ stream: created.id, resend_last: 2 }, (msg) => resent.push(msg))
    sub.on('resent', resolve)
    sub.on('no_resend', () => reject(new Error('no_resend')))
  }))
  assert.deepStrictEqual(resent, [{ n: 2 }, { n: 3 }])

  const permissions = await created.getPermissions()
  assert.strictEqual(permissions.length, 3)
  assert.deepStrictEqual(permissions.map((p) => p.operation).sort(), ['read', 'share', 'write'])

  await created.delete()
  let gone = false
  try { await client.getStream(created.id) } catch (e) { gone = /404/.test(String(e)) }
  assert.ok(gone, 'the deleted stream is 404')

  console.log('OK')
  process.exit(0)
}

main().catch((e) => { console.error('FAILED', e); process.exit(1) })
