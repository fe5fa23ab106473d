import mqtt, { type IClientOptions } from 'mqtt'

/**
 * Tries to connect MQTT.js and resolves with how the attempt ended (its error message, or
 * "closed" when the connection just closed); rejects if the client got CONNACK instead.
 * MQTT.js's connectAsync waits for ever on a connection that closes without an error.
 */
export async function connectionRefusal (url: string, options: IClientOptions = {}): Promise<string> {
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options })
  try {
    return await new Promise<string>((resolve, reject) => {
      client.once('connect', () => reject(new Error(`${url} accepted the client`)))
      client.once('error', error => resolve(error.message))
      client.once('close', () => resolve('closed'))
    })
  } finally {
    client.end(true)
  }
}
