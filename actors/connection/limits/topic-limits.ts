import type { TopicProblem } from '../../router/topic-rules.js'
import type { LimitKind } from './limit-kind.js'

export type TopicLimitKind = Extract<LimitKind, 'max-topic-length' | 'max-topic-levels'>

/**
 * The broker's limit behind a topic problem, or undefined when the topic is invalid by the
 * protocol itself. A topic over a limit is well formed and only refused (v5 0x90 / 0x8F),
 * while an invalid one is a protocol error.
 */
export function topicLimitOf (problem: TopicProblem | undefined): TopicLimitKind | undefined {
  if (problem === 'too-long') return 'max-topic-length'
  if (problem === 'too-many-levels') return 'max-topic-levels'
  return undefined
}
