import type { Sample } from '@vigil/common';
import { AlertingRule, type AlertEvalContext } from './alerting.js';
import type { RuleGroupDef } from './file.js';
import type { QueryFn } from './types.js';

export const AGENT_DOWN_ALERT = 'VigilAgentDown';
export const BUILTIN_GROUP = 'vigil';

/**
 * The built-in `VigilAgentDown` alert: one alert per agent whose link is cut, raised and
 * cleared by the hub (`RuleManager.setAgentDown`), not by a query. It fires at once and
 * stays one alert for the whole cut; it resolves when the agent is back.
 */
export class AgentDownRule extends AlertingRule {
  readonly down = new Map<string, { agent: string; datacenter: string; since: number }>();

  override async eval(_queryFn: QueryFn, ts: number, ctx: AlertEvalContext, limit: number): Promise<Sample[]> {
    const vector = [...this.down.values()].map((d) => ({ labels: { agent: d.agent, datacenter: d.datacenter }, value: (ts - d.since) / 1000 }));
    return super.eval(async () => vector, ts, { ...ctx, held: () => false }, limit);
  }
}

export function builtinGroupDef(): RuleGroupDef {
  return {
    name: BUILTIN_GROUP,
    limit: 0,
    file: '',
    rules: [{
      alert: AGENT_DOWN_ALERT,
      expr: 'vigil_agent_link_up == 0',
      for: 0,
      keep_firing_for: 0,
      labels: { severity: 'critical' },
      annotations: {
        summary: 'Agent {{ $labels.agent }} in datacenter {{ $labels.datacenter }} is disconnected',
        description: 'The link of agent {{ $labels.agent }} ({{ $labels.datacenter }}) has been cut for {{ $value | humanizeDuration }}; alerts of datacenter {{ $labels.datacenter }} are held until its backlog lands.',
      },
      line: 0,
    }],
  };
}
