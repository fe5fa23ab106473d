// Connects, subscribes, publishes and disconnects MQTT.js clients, 50 at a time, `cycles`
// times in all, against `url`; half MQTT 5, half 3.1.1. Run by churn-soak.ts.
import mqtt from 'mqtt'

const [url, cycles] = [process.argv[2], Number(process.argv[3])]
for (let done = 0; done < cycles; done += 50) {
  await Promise.all(Array.from({ length: Math.min(50, cycles - done) }, async (_, i) => {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, protocolVersion: (done + i) % 2 === 0 ? 5 : 4 })
    await client.subscribeAsync('soak/+')
    await client.publishAsync('soak/topic', 'x', { qos: 1 })
    await client.endAsync()
  }))
}
