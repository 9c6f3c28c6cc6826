/**
 * The course in public/lessons: every lesson runs through the runner and passes (every answer is
 * the engine's value, every task's solution reaches its goal from a state where it did not hold),
 * every other choice of every question is wrong, and the course as a whole holds together.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TOPIC_IDS } from '../../src/engine/lesson/topics.js';
import { ScenarioRunner } from '../../src/engine/scenario/runner.js';
import type { Scenario } from '../../src/engine/scenario/validate.js';
import { createMemoryStore } from '../../src/storage/chunked-memory-store.js';
import { explainFailure, listScenarioFiles, loadScenario, runScenario } from '../support/scenario-files.js';

const LESSON_ROOT = 'public/lessons';
const files = listScenarioFiles(LESSON_ROOT);
const lessons = files.map((file) => ({ file, scenario: loadScenario(file) }));

function stepsOf(scenario: Scenario, op: string) {
  return scenario.steps.filter((step) => step.op === op);
}

describe('every lesson', () => {
  for (const { file, scenario } of lessons) {
    it(`${file} passes`, () => {
      const outcome = runScenario(scenario);
      expect(explainFailure(outcome)).toBe('passed');
      expect(outcome.stepsRun).toBe(outcome.stepCount);
    });
  }
});

describe('every question is decided by the engine', () => {
  // A lesson that keys a wrong answer fails its own run, at that question, naming the engine's value.
  for (const { file, scenario } of lessons) {
    it(`${file}: each other choice fails`, () => {
      scenario.steps.forEach((step, index) => {
        if (step.op !== 'ask') return;
        for (const wrong of step.choices.filter((choice) => choice !== step.answer)) {
          const steps = scenario.steps.map((other, position) => (position === index ? { ...step, answer: wrong } : other));
          const outcome = new ScenarioRunner({ ...scenario, steps }, createMemoryStore).runToEnd();
          expect(outcome.passed, `${file} steps[${index}] with "${wrong}"`).toBe(false);
          expect(outcome.failure!.index).toBe(index);
          expect(outcome.failure!.expected).toBe(`the keyed answer "${wrong}"`);
          expect(outcome.failure!.actual).toBe(`the engine's value "${step.answer}"`);
        }
      });
    });
  }
});

describe('the course', () => {
  it('has about twenty lessons, each with a lesson block', () => {
    expect(lessons.length).toBeGreaterThanOrEqual(18);
    expect(lessons.length).toBeLessThanOrEqual(24);
    for (const { file, scenario } of lessons) expect(scenario.lesson, file).toBeDefined();
  });

  it('has unique ids and unique orders, and the files sort in course order', () => {
    const ids = lessons.map(({ scenario }) => scenario.lesson!.id);
    const orders = lessons.map(({ scenario }) => scenario.lesson!.order);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(orders).size).toBe(orders.length);
    expect([...orders].sort((a, b) => a - b)).toEqual(orders);
  });

  it('covers every topic of the contract', () => {
    const covered = new Set(lessons.flatMap(({ scenario }) => scenario.lesson!.covers));
    const missing = TOPIC_IDS.filter((topic) => !covered.has(topic));
    expect(missing).toEqual([]);
  });

  it('teaches the workflow and the interfaces before the failures', () => {
    const orderOf = (topic: string) => Math.min(...lessons.filter(({ scenario }) => scenario.lesson!.covers.includes(topic as never)).map(({ scenario }) => scenario.lesson!.order));
    const firstFailure = Math.min(...['failure-1', 'failure-2', 'failure-3', 'failure-4', 'failure-5', 'failure-6', 'failure-7'].map(orderOf));
    for (const topic of ['topology', 'rule-1', 'rule-2', 'rule-3', 'rule-4', 'interface-checkpoint', 'start-order', 'interface-start', 'interface-get-error', 'interface-stop', 'failover-commit']) {
      expect(orderOf(topic), topic).toBeLessThan(firstFailure);
    }
    expect(orderOf('topology')).toBe(Math.min(...lessons.map(({ scenario }) => scenario.lesson!.order)));
  });

  it('every lesson: 3 to 8 minutes, at least two questions and one task, narration, explanations and hints', () => {
    for (const { file, scenario } of lessons) {
      const { minutes } = scenario.lesson!;
      expect(minutes, file).toBeGreaterThanOrEqual(3);
      expect(minutes, file).toBeLessThanOrEqual(8);
      expect(stepsOf(scenario, 'ask').length, file).toBeGreaterThanOrEqual(2);
      expect(stepsOf(scenario, 'task').length, file).toBeGreaterThanOrEqual(1);
      expect(stepsOf(scenario, 'say').length, file).toBeGreaterThanOrEqual(2);
      for (const step of scenario.steps) {
        if (step.op === 'ask') expect(step.explain, `${file}: ${step.question}`).toBeTruthy();
        if (step.op === 'task') expect(step.hint, `${file}: ${step.goal}`).toBeTruthy();
      }
      expect(scenario.description, file).toBeTruthy();
      expect(scenario.source, file).toBeTruthy();
    }
  });

  it('uses small disks, so every lesson runs quickly', () => {
    for (const { file, scenario } of lessons) expect(scenario.settings.diskSizeBytes, file).toBeLessThanOrEqual(1024 * 1024);
  });

  it('points editors at the JSON Schema', () => {
    for (const { file } of lessons) expect(JSON.parse(readFileSync(file, 'utf8')).$schema, file).toBe('../scenario.schema.json');
  });
});
