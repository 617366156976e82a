import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  checkRuleInput,
  checkRulePatch,
  checkRuleTest,
  type ListRulesPage,
  type Principal,
  RuleInput,
  RuleTestInput,
  type RuleTestResult,
  type RuleView,
  ServicesClient,
  SUBJECTS,
} from '#common';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators.js';
import {
  RULE_INPUT_SCHEMA,
  RULE_LIST_SCHEMA,
  RULE_PATCH_SCHEMA,
  RULE_TEST_RESULT_SCHEMA,
  RULE_TEST_SCHEMA,
  RULE_VIEW_SCHEMA,
} from './alerts-openapi.js';
import { asBodyError, checkedBody } from './rule-body.js';

const RULE_FIELDS: ReadonlySet<string> = new Set(Object.keys(RuleInput.properties));
const RULE_TEST_FIELDS: ReadonlySet<string> = new Set(Object.keys(RuleTestInput.properties));

/** A dry run reads up to a bounded number of points; it may take longer than a plain request. */
const RULE_TEST_TIMEOUT_MS = 30_000;

/** Alert rules (docs/api.md, "Alert rules"), answered by the alerts app. */
@ApiTags('alerts')
@Controller('api/rules')
export class RulesController {
  constructor(private readonly services: ServicesClient) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({ summary: "The org's rules, oldest first (webhook secrets are never shown again)" })
  @ApiOkResponse({ schema: RULE_LIST_SCHEMA })
  async list(@CurrentPrincipal() principal: Principal): Promise<{ rules: RuleView[] }> {
    // The alerts app answers in pages that fit a NATS message; the HTTP answer is all of them.
    const rules: RuleView[] = [];
    let cursor: string | undefined;
    do {
      const page: ListRulesPage = await this.services.call(SUBJECTS.alerts.listRules, {
        org_id: principal.org_id,
        ...(cursor === undefined ? {} : { cursor }),
      });
      rules.push(...page.rules);
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
    return { rules };
  }

  @Get(':ruleId')
  @RequireScope('read')
  @ApiOperation({ summary: 'One rule; 404 for an unknown id or one of another org' })
  @ApiOkResponse({ schema: RULE_VIEW_SCHEMA })
  get(@CurrentPrincipal() principal: Principal, @Param('ruleId') ruleId: string): Promise<RuleView> {
    return this.services.call(SUBJECTS.alerts.getRule, { org_id: principal.org_id, rule_id: ruleId });
  }

  @Post()
  @HttpCode(201)
  @RequireScope('admin')
  @ApiOperation({ summary: "Creates a rule; each webhook's signing secret is in this answer only" })
  @ApiBody({ schema: RULE_INPUT_SCHEMA })
  @ApiCreatedResponse({ schema: RULE_VIEW_SCHEMA })
  create(@CurrentPrincipal() principal: Principal, @Body() body: unknown): Promise<RuleView> {
    const rule = checkedBody(body, checkRuleInput, RULE_FIELDS);
    return asBodyError(this.services.call(SUBJECTS.alerts.createRule, { org_id: principal.org_id, rule }));
  }

  /** Declared before `:ruleId` routes of the same method for readability; paths differ anyway. */
  @Post('test')
  @HttpCode(200)
  @RequireScope('read')
  @ApiOperation({ summary: 'Dry run: the transitions a rule (not saved) would have made over a time range or a recorded session' })
  @ApiBody({ schema: RULE_TEST_SCHEMA })
  @ApiOkResponse({ schema: RULE_TEST_RESULT_SCHEMA })
  test(@CurrentPrincipal() principal: Principal, @Body() body: unknown): Promise<RuleTestResult> {
    const input = checkedBody(body, checkRuleTest, RULE_TEST_FIELDS);
    return this.services.call(SUBJECTS.alerts.testRule, { ...input, org_id: principal.org_id }, RULE_TEST_TIMEOUT_MS);
  }

  @Patch(':ruleId')
  @RequireScope('admin')
  @ApiOperation({
    summary:
      'Changes any of the fields; `webhooks` replaces the list (an entry with the id of an existing webhook keeps it and its secret; ' +
      'entries without id are new, their secrets in this answer only; webhooks left out are deleted). ' +
      'Silence with { "silenced_until": "<ISO time>" }, unsilence with null.',
  })
  @ApiBody({ schema: RULE_PATCH_SCHEMA })
  @ApiOkResponse({ schema: RULE_VIEW_SCHEMA })
  update(@CurrentPrincipal() principal: Principal, @Param('ruleId') ruleId: string, @Body() body: unknown): Promise<RuleView> {
    const patch = checkedBody(body, checkRulePatch, RULE_FIELDS);
    return asBodyError(this.services.call(SUBJECTS.alerts.updateRule, { org_id: principal.org_id, rule_id: ruleId, patch }));
  }

  @Delete(':ruleId')
  @RequireScope('admin')
  @ApiOperation({ summary: 'Deletes the rule, its webhooks and states; its firing alerts are resolved' })
  @ApiOkResponse({ schema: { type: 'object', required: ['deleted'], properties: { deleted: { type: 'boolean', enum: [true] } } } })
  delete(@CurrentPrincipal() principal: Principal, @Param('ruleId') ruleId: string): Promise<{ deleted: true }> {
    return this.services.call(SUBJECTS.alerts.deleteRule, { org_id: principal.org_id, rule_id: ruleId });
  }
}
