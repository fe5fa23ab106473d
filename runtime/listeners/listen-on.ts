import type { AddressInfo, Server } from 'node:net'

/** Binds `server` to host:port and resolves with the bound address, or rejects with the bind error. */
export async function listenOn (server: Server, host: string, port: number): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    const fail = (error: Error): void => reject(error)
    server.once('error', fail)
    server.listen(port, host, () => {
      server.off('error', fail)
      resolve()
    })
  })
  return server.address() as AddressInfo
}

/** Stops `server` accepting; resolves once it has closed (its accepted sockets are closed elsewhere). */
export async function stopListening (server: Server): Promise<void> {
  if (!server.listening) return
  await new Promise<void>(resolve => server.close(() => resolve()))
}
