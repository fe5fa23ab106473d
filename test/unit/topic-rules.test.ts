import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { filterMatches, topicFilterProblem, topicNameProblem } from '../../actors/router/topic-rules.js'

const test = suite('topic rules')

test('[MQTT-4.7.1-2] # must be the last level and stand alone', () => {
  assert.is(topicFilterProblem('sport/tennis/#'), undefined)
  assert.is(topicFilterProblem('#'), undefined)
  assert.is(topicFilterProblem('sport/tennis#'), 'misplaced-multi-level-wildcard')
  assert.is(topicFilterProblem('sport/#/ranking'), 'misplaced-multi-level-wildcard')
})

test('[MQTT-4.7.1-3] + must occupy a whole level', () => {
  assert.is(topicFilterProblem('+'), undefined)
  assert.is(topicFilterProblem('+/tennis/#'), undefined)
  assert.is(topicFilterProblem('sport/+/player1'), undefined)
  assert.is(topicFilterProblem('sport+'), 'misplaced-single-level-wildcard')
})

test('[MQTT-4.7.3-1] topic names and filters must not be empty', () => {
  assert.is(topicNameProblem(''), 'empty')
  assert.is(topicFilterProblem(''), 'empty')
})

test('[MQTT-4.7.3-2] topic names and filters must not contain U+0000', () => {
  assert.is(topicNameProblem('a\u0000b'), 'null-character')
  assert.is(topicFilterProblem('a/\u0000'), 'null-character')
})

test('[MQTT-3.3.2-2] topic names must not contain wildcards', () => {
  assert.is(topicNameProblem('a/+'), 'wildcard-in-name')
  assert.is(topicNameProblem('a/#'), 'wildcard-in-name')
  assert.is(topicNameProblem('a/b c/ü'), undefined)
})

test('limits on length and levels are enforced', () => {
  const limits = { maxLength: 10, maxLevels: 3 }
  assert.is(topicNameProblem('a/b/c', limits), undefined)
  assert.is(topicNameProblem('a/b/c/d', limits), 'too-many-levels')
  assert.is(topicNameProblem('abcdefghijk', limits), 'too-long')
})

test('[MQTT-4.7.1-2] # matches the parent level and everything below', () => {
  assert.ok(filterMatches('sport/tennis/player1/#', 'sport/tennis/player1'))
  assert.ok(filterMatches('sport/tennis/player1/#', 'sport/tennis/player1/ranking'))
  assert.ok(filterMatches('sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon'))
  assert.ok(filterMatches('sport/#', 'sport'))
  assert.not.ok(filterMatches('sport/tennis/#', 'sport/football'))
})

test('[MQTT-4.7.1-3] + matches exactly one level, including an empty one', () => {
  assert.ok(filterMatches('sport/tennis/+', 'sport/tennis/player1'))
  assert.not.ok(filterMatches('sport/tennis/+', 'sport/tennis/player1/ranking'))
  assert.not.ok(filterMatches('sport/+', 'sport'))
  assert.ok(filterMatches('sport/+', 'sport/'))
  assert.ok(filterMatches('+/+', '/finance'))
  assert.ok(filterMatches('/+', '/finance'))
  assert.not.ok(filterMatches('+', '/finance'))
})

test('[MQTT-4.7.2-1] filters starting with a wildcard do not match $ topics', () => {
  assert.not.ok(filterMatches('#', '$SYS/broker/uptime'))
  assert.not.ok(filterMatches('+/broker/uptime', '$SYS/broker/uptime'))
  assert.ok(filterMatches('$SYS/#', '$SYS/broker/uptime'))
  assert.ok(filterMatches('$SYS/+/uptime', '$SYS/broker/uptime'))
})

test('[MQTT-4.7.3-4] matching is exact: case, spaces and levels are significant', () => {
  assert.not.ok(filterMatches('ACCOUNTS', 'Accounts'))
  assert.not.ok(filterMatches('a b', 'a  b'))
  assert.ok(filterMatches('a/b', 'a/b'))
  assert.not.ok(filterMatches('a/b', 'a/b/'))
})

test.run()
