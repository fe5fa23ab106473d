import type { IAuthPacket } from 'mqtt-packet'
import type { AuthExchange, AuthStep } from './auth-methods/auth-method.js'
import { ReasonCode } from './protocol/reason-codes.js'

/**
 * One enhanced-authentication exchange carried over AUTH packets [MQTT-4.12.0-1 (v5)]: each
 * `continue` step goes to the client as AUTH 0x18, and the client's AUTH 0x18 answer feeds the
 * next step, until the method says success or failure. A client that does not answer in time,
 * or answers with another method or reason, fails the exchange.
 */
export class AuthConversation {
  private awaiting: ((packet: IAuthPacket | undefined) => void) | undefined

  constructor (
    private readonly methodName: string,
    private readonly exchange: AuthExchange,
    private readonly sendContinue: (data: Buffer) => void,
    private readonly answerTimeoutMs: number
  ) {}

  /** Runs the exchange from the client's first Authentication Data to success or failure. */
  async run (first: Buffer | undefined): Promise<Exclude<AuthStep, { kind: 'continue' }>> {
    let step = await this.exchange.step(first)
    while (step.kind === 'continue') {
      this.sendContinue(step.data)
      const answer = await this.nextAnswer()
      if (answer === undefined) return { kind: 'failure', reasonCode: ReasonCode.NotAuthorized, detail: 'no AUTH answer in time' }
      if (answer.reasonCode !== ReasonCode.ContinueAuthentication || answer.properties?.authenticationMethod !== this.methodName) {
        // The method must stay the same through the exchange [MQTT-4.12.0-5 (v5)].
        return { kind: 'failure', reasonCode: ReasonCode.ProtocolError, detail: 'AUTH answer with another reason code or method' }
      }
      step = await this.exchange.step(answer.properties?.authenticationData)
    }
    return step
  }

  /** The client's AUTH 0x18; false when the exchange was not waiting for one. */
  receive (packet: IAuthPacket): boolean {
    const awaiting = this.awaiting
    if (awaiting === undefined) return false
    this.awaiting = undefined
    awaiting(packet)
    return true
  }

  private async nextAnswer (): Promise<IAuthPacket | undefined> {
    return await new Promise(resolve => {
      const timer = setTimeout(() => {
        this.awaiting = undefined
        resolve(undefined)
      }, this.answerTimeoutMs)
      timer.unref()
      this.awaiting = packet => {
        clearTimeout(timer)
        resolve(packet)
      }
    })
  }
}
