import { createServer, type AddressInfo, type Server } from 'node:net'

/**
 * `count` ports free on 127.0.0.1 right now, all different (held open together while chosen),
 * for programs that cannot be told to pick a free port themselves (Mosquitto, HAProxy, a
 * config file's fixed port).
 */
export async function freePorts (count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, async () => await new Promise<Server>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server))
  })))
  const ports = servers.map(server => (server.address() as AddressInfo).port)
  await Promise.all(servers.map(async server => await new Promise(resolve => server.close(resolve))))
  return ports
}
