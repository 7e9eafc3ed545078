import type { ReportFigures } from '../figures/report-figures.js';
import type { Lang } from './report-labels.js';

/** How each figure was computed, printed under each section (the issue: "with the method stated"). */
export type SectionId =
  | 'online'
  | 'alarms'
  | 'falseAlarms'
  | 'response'
  | 'escalations'
  | 'pushes'
  | 'drills'
  | 'hazards'
  | 'cameras';

export function methodNotes(f: ReportFigures, lang: Lang): Record<SectionId, string> {
  const limit = f.falseAlarms.dailyLimit;
  const sup = f.supervision;
  if (lang === 'en') {
    return {
      online:
        'Time-weighted, from status history, not a snapshot. Each device counts from the start of the period ' +
        '(or its registration, or the simulation run’s start) to its end (or now). It is offline while its gateway ' +
        'was offline — the gateway’s status changes in InfluxDB (`gateway`, type status; last status before the period ' +
        'taken as the state at its start; a gateway never heard from counts as offline) and its “gateway offline” alerts — ' +
        'and while its own “device offline”/“camera offline” alert was open (opened after 3 missed report intervals, ' +
        'cleared at the next report). Online rate = online device-time / registered device-time.',
      alarms:
        'Alerts opened in the period from the operational store, drills left out (counted in section 7). Kind = the ' +
        'device kind (gateway alerts apart); verdict = the verification recorded by a person (GB 25201); “not verified” ' +
        'includes alerts that closed by themselves.',
      falseAlarms:
        'False-alarm rate = alerts verified as false alarms / alerts verified, per institution and per detector. ' +
        `The GB 50440 line: fire-alarm signals per detector and local day from InfluxDB (fire events, drill windows ` +
        `left out); more than ${limit} in a day must be followed up.`,
      response:
        'Seconds from an alert’s opening to its acknowledgement, verification and closing, for non-drill alerts opened ' +
        'in the period that reached that step. Mean and p90 (nearest rank: the smallest value with 90 % at or below it).',
      escalations:
        'An alert is escalated when nobody acknowledged it before its escalation policy’s next level fell due ' +
        '(default: deputy after 2 min, county duty officer after 5). Level = the highest level reached.',
      pushes:
        'Each push (alert × notification × channel [× recipient]) counted once by its last record in the period: sent; ' +
        'failed (refused, or retries used up); retrying. Attempts count every try. Pushes a channel’s policy skipped ' +
        '(drills, minimum severity) are listed apart.',
      drills:
        'Drills that started in the period. Score by GB 25201’s “1-3-5”: a drill alarm acknowledged within 60 s scores ' +
        '100, within 180 s 60, within 300 s 30, later or never 0; an institution of the drill that raised no alarm ' +
        'scores 0; the drill’s score is the mean.',
      hazards:
        'From the supervision module’s hazard ledger (issue 16), as its own figures count: opened = found in the ' +
        'period; closed = closed (销号) in the period, withdrawn ones left out, on time when the work was submitted by ' +
        'the deadline; open and overdue = at the end of the period (or now), overdue meaning past the deadline with ' +
        'the work neither submitted nor reviewed; went overdue = first passed its deadline in the period. ' +
        `${sup.available && sup.records !== null ? `Hazards generated for the demo from the simulation’s seed (${sup.records}). ` : 'Live hazards only (demo-generated ones left out). '}` +
        'Risk grade = each institution’s last graded point before the end (grade history; the same for live and simulated reports).',
      cameras:
        'Time-weighted like the online rate; a camera is also unavailable from a signal-loss, frozen, black, ' +
        'occluded picture or device-fault event (视频质量诊断) until its restore event (InfluxDB camera events; 7 days before the ' +
        'period read for the state at its start).',
    };
  }
  return {
    online:
      '按状态历史对时间加权计算，而非某一时刻的快照。每台设备的统计时长为统计周期开始（或其登记时间、模拟运行开始时间）至周期结束（或当前时间）。' +
      '以下时段计为离线：所属网关离线（InfluxDB 中网关状态变化记录 gateway/type=status，以周期开始前最后一条状态作为起始状态，从未上报状态的网关计为离线；' +
      '以及“网关离线”告警）；设备自身“设备离线/摄像机离线”告警持续期间（连续 3 个上报周期无数据时触发，再次上报时恢复）。' +
      '在线率 = 在线设备时长 ÷ 应在线设备时长。',
    alarms:
      '取业务库中本周期内新产生的告警，演练告警不计入（见第七部分）。类型为设备类型（网关告警单列）；核实结论为处置人员记录的核实结果（GB 25201），' +
      '“未核实”含自动恢复关闭的告警。',
    falseAlarms:
      '误报率 = 核实为误报的告警数 ÷ 已核实告警数，分机构、分探测器统计。GB 50440 规定：同一探测器单日（按本地日期）火警信号超过 ' +
      `${limit} 次须跟踪处理；信号数取自 InfluxDB 火灾探测事件（演练时段除外）。`,
    response:
      '自告警产生至确认、核实、关闭的秒数，统计本周期内产生且已完成该环节的非演练告警；给出平均值与 P90（最近秩法：不小于 90% 数值的最小值）。',
    escalations:
      '告警在升级策略的下一级到期前无人确认即逐级升级（默认：2 分钟未确认通知副职，5 分钟通知县值班员）。层级取告警达到的最高层级。',
    pushes:
      '每条推送（告警 × 通知 × 渠道［× 接收人］）按其在本周期内的最后一条记录计一次：成功；失败（被拒绝或重试用尽）；重试中。' +
      '尝试次数计入每次发送。按渠道策略未发送的（演练、最低级别等）单列。',
    drills:
      '本周期内开始的演练。得分依据 GB 25201“1-3-5”要求：演练报警 60 秒内确认得 100 分，180 秒内 60 分，300 秒内 30 分，超时或未确认 0 分；' +
      '参演机构未产生任何报警计 0 分；演练得分为平均分。',
    hazards:
      '取自监管业务模块隐患台账（第 16 号议题），口径与其自身统计一致：新增 = 本周期发现；整改完成 = 本周期销号（撤销的不计），' +
      '在整改期限内提交整改的为按期整改；期末未整改、逾期未整改 = 周期结束（或当前）时仍未销号、已过期限且未提交未复查的隐患；' +
      '本期逾期 = 本周期内首次超过整改期限。' +
      `${sup.available && sup.records !== null ? `采用演示数据生成器按模拟运行种子生成的隐患（${sup.records}）。` : '仅统计实际隐患（不含演示生成数据）。'}` +
      '风险等级 = 各机构周期结束前最后一次评级（评级历史；实际与模拟报告相同）。',
    cameras:
      '与设备在线率同法按时间加权；此外，自信号丢失、画面冻结、黑屏、遮挡（视频质量诊断）或设备故障事件起至恢复事件止，摄像机计为不可用' +
      '（InfluxDB 摄像机事件；读取周期开始前 7 天的事件以确定起始状态）。',
  };
}
