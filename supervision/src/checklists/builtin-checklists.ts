import { Checklist, type ChecklistInput } from './checklist.js';

/**
 * 养老机构重大事故隐患判定标准 (Ministry of Civil Affairs General Office, 27 November 2023): 22
 * situations in 5 categories (art. 3). Every failed item is a major hazard (重大事故隐患) by the
 * standard's definition. Item texts are short paraphrases for an inspector's phone, not the
 * standard's wording; the articles they rest on are given in `basis`.
 */
const MCA_2023: ChecklistInput = {
  id: 'mca-2023-major-hazards',
  name: {
    zh: '养老机构重大事故隐患判定标准（22种情形）',
    en: 'Major accident hazards of elder-care institutions (22 situations)',
  },
  standard: '民政部办公厅《养老机构重大事故隐患判定标准》（2023年11月27日印发）',
  categories: [
    {
      id: 'facilities',
      name: { zh: '重要设施设备存在严重缺陷', en: 'Serious defects of key facilities and equipment' },
    },
    {
      id: 'qualifications',
      name: { zh: '安全生产相关资格资质不符合法定要求', en: 'Safety licences and qualifications not as required' },
    },
    { id: 'daily_management', name: { zh: '日常管理存在严重问题', en: 'Serious problems in daily management' } },
    { id: 'service_conduct', name: { zh: '严重违法违规提供服务', en: 'Seriously unlawful provision of services' } },
    { id: 'other_major', name: { zh: '其他重大事故隐患', en: 'Other major accident hazards' } },
  ],
  items: [
    // Art. 4: serious defects of key facilities and equipment.
    {
      id: 'F1',
      category: 'facilities',
      text: '建筑经鉴定属C级、D级危房，或经住房城乡建设部门研判建筑安全存在重大隐患',
      textEn: 'Building rated C or D (dangerous) or judged a major structural hazard by the housing authority',
      severity: 'major',
      basis: '第四条（一）',
      hint: '查房屋安全鉴定报告、住建部门意见',
    },
    {
      id: 'F2',
      category: 'facilities',
      text: '经住建、消防等部门检查或第三方评估，建筑防火、消防、电气、燃气等设施设备不符合强制性标准，不具备消防安全技术条件',
      textEn:
        'Fire protection, electrical or gas installations found non-compliant; no fire-safety technical conditions',
      severity: 'major',
      basis: '第四条（二）',
      hint: '查消防验收或检查意见、第三方评估报告',
    },
    {
      id: 'F3',
      category: 'facilities',
      text: '违规用易燃可燃芯材彩钢板搭建有人活动的建筑，或大量使用易燃可燃材料装修装饰',
      textEn: 'Occupied structures of combustible-core sandwich panels, or extensive combustible decoration',
      severity: 'major',
      basis: '第四条（三）',
      hint: '现场查看彩钢板房、吊顶和墙面装修材料',
    },
    {
      id: 'F4',
      category: 'facilities',
      text: '使用未经许可生产、未经检验或检验不合格、国家明令淘汰或已报废的电梯、锅炉、氧气管道等特种设备',
      textEn:
        'Lifts, boilers, oxygen piping or other special equipment unlicensed, uninspected, failed, banned or scrapped',
      severity: 'major',
      basis: '第四条（四）',
      hint: '查特种设备使用登记证和定期检验报告',
    },
    // Art. 5: licences and qualifications.
    {
      id: 'Q1',
      category: 'qualifications',
      text: '内设医疗机构未依法取得医疗机构执业许可证或未依法办理备案',
      textEn: 'In-house medical facility without a practice licence or filing',
      severity: 'major',
      basis: '第五条（一）',
      hint: '查医疗机构执业许可证或备案凭证',
    },
    {
      id: 'Q2',
      category: 'qualifications',
      text: '内设食堂未依法取得食品经营许可证',
      textEn: 'In-house canteen without a food business licence',
      severity: 'major',
      basis: '第五条（二）',
      hint: '查食品经营许可证是否有效并公示',
    },
    {
      id: 'Q3',
      category: 'qualifications',
      text: '使用未取得相应资格的人员从事特种设备安全管理、检测等工作',
      textEn: 'Unqualified staff managing or testing special equipment',
      severity: 'major',
      basis: '第五条（三）',
      hint: '查特种设备安全管理人员、作业人员证书',
    },
    // Art. 6: daily management.
    {
      id: 'M1',
      category: 'daily_management',
      text: '未建立或未落实安全生产责任制，主要负责人未履行安全管理职责',
      textEn: 'No safety responsibility system in force; the head does not discharge safety duties',
      severity: 'major',
      basis: '第六条',
      hint: '查安全责任制文件、责任书、会议与培训记录',
    },
    {
      id: 'M2',
      category: 'daily_management',
      text: '未开展安全隐患排查治理，或对已发现的重大事故隐患未及时整改',
      textEn: 'No hazard checks, or known major hazards left unremedied',
      severity: 'major',
      basis: '第六条',
      hint: '查隐患排查台账和整改记录（本平台隐患清单）',
    },
    {
      id: 'M3',
      category: 'daily_management',
      text: '消防控制室未落实24小时值班，或值班人员不足、未持证上岗',
      textEn: 'Fire control room not staffed around the clock, or staff short or uncertified (GB 25506)',
      severity: 'major',
      basis: '第六条',
      hint: '查值班记录、值班人员证书；抽查应答平台查岗',
    },
    {
      id: 'M4',
      category: 'daily_management',
      text: '未按规定开展防火巡查、检查，夜间防火巡查缺失',
      textEn: 'Fire patrols and checks not done as required, no night patrols',
      severity: 'major',
      basis: '第六条',
      hint: '查防火巡查记录（含夜间）',
    },
    {
      id: 'M5',
      category: 'daily_management',
      text: '擅自停用、关闭消防设施，或消防设施、器材未保持完好有效',
      textEn: 'Fire protection systems switched off, or equipment not kept in working order',
      severity: 'major',
      basis: '第六条',
      hint: '现场查看报警主机屏蔽/故障、灭火器压力、消火栓；对照平台设备状态',
    },
    {
      id: 'M6',
      category: 'daily_management',
      text: '占用、堵塞、封闭疏散通道、安全出口，或门窗设置影响逃生和灭火救援的障碍物',
      textEn: 'Escape routes or exits blocked or locked; bars on windows that hinder escape and rescue',
      severity: 'major',
      basis: '第六条',
      hint: '现场逐层查看疏散通道、安全出口、防火门',
    },
    {
      id: 'M7',
      category: 'daily_management',
      text: '违规使用明火、存放易燃易爆危险品，或电动自行车在建筑内违规停放、充电',
      textEn: 'Open flames or flammables kept against the rules; e-bikes parked or charged indoors',
      severity: 'major',
      basis: '第六条',
      hint: '现场查看居室、走廊、楼梯间',
    },
    {
      id: 'M8',
      category: 'daily_management',
      text: '使用燃气的场所未按规定安装可燃气体报警装置，或违规使用燃气设施',
      textEn: 'Gas used without gas detectors as required, or gas appliances misused',
      severity: 'major',
      basis: '第六条',
      hint: '查厨房燃气报警器、切断阀；对照平台厨房监测',
    },
    {
      id: 'M9',
      category: 'daily_management',
      text: '未制定应急预案，或未按规定开展应急演练（每年至少1次）',
      textEn: 'No emergency plan, or drills not held as required (at least one a year)',
      severity: 'major',
      basis: '第六条',
      hint: '查应急预案和演练记录；对照平台演练记录',
    },
    // Art. 7: unlawful provision of services.
    {
      id: 'S1',
      category: 'service_conduct',
      text: '在地下室、半地下室设置老年人居室',
      textEn: 'Residents’ rooms in a basement or semi-basement',
      severity: 'major',
      basis: '第七条',
      hint: '现场查看',
    },
    {
      id: 'S2',
      category: 'service_conduct',
      text: '超出核定床位或服务能力收住老年人',
      textEn: 'More residents than the approved beds or the capacity to care for them',
      severity: 'major',
      basis: '第七条',
      hint: '核对在住老人名册与备案床位',
    },
    {
      id: 'S3',
      category: 'service_conduct',
      text: '未开展老年人能力评估，将失能、半失能老年人安排在不利于疏散的楼层或区域',
      textEn: 'No capacity assessment; residents with disabilities placed where evacuation is hard',
      severity: 'major',
      basis: '第七条',
      hint: '查能力评估记录与居室分布',
    },
    {
      id: 'S4',
      category: 'service_conduct',
      text: '夜间值班、护理人员配备不足，无法保障紧急情况下老年人疏散',
      textEn: 'Too few night staff to evacuate residents in an emergency',
      severity: 'major',
      basis: '第七条',
      hint: '查夜间排班表，现场核对',
    },
    {
      id: 'S5',
      category: 'service_conduct',
      text: '存在虐待、欺凌老年人等严重侵害老年人合法权益的行为',
      textEn: 'Abuse or bullying of residents, or other serious violations of their rights',
      severity: 'major',
      basis: '第七条',
      hint: '走访老人及家属、查投诉记录',
    },
    // Art. 8: others.
    {
      id: 'O1',
      category: 'other_major',
      text: '其他可能导致人员重大伤亡、财产重大损失的重大事故隐患',
      textEn: 'Any other hazard that may cause major casualties or losses',
      severity: 'major',
      basis: '第八条',
      hint: '情况复杂难以直接判定的，可商请有关部门或组织专家论证后综合判定',
    },
  ],
  note: '第四条、第五条各项依据标准原文概括；第六条至第八条各项为检查用概括表述，县级可对照民政部发布的原文在本页修改、补充，并结合本地细化标准。',
};

/**
 * GB 38600-2019 养老机构服务安全基本规范 (mandatory national standard), chapter 6: the nine
 * prevention areas of service safety. A failed item is a general hazard unless the inspector
 * files it as major.
 */
const GB_38600: ChecklistInput = {
  id: 'gb-38600-2019',
  name: { zh: 'GB 38600-2019 服务安全风险防范（九个方面）', en: 'GB 38600-2019 service safety: nine prevention areas' },
  standard: 'GB 38600-2019《养老机构服务安全基本规范》',
  categories: [{ id: 'service_safety', name: { zh: '安全风险防范', en: 'Risk prevention' } }],
  items: [
    {
      id: 'C1',
      category: 'service_safety',
      text: '防噎食：对有噎食风险的老年人提供适宜食物，进食有人照看，工作人员掌握噎食急救方法',
      textEn: 'Choking: suitable food and supervision at meals for those at risk; staff know first aid for choking',
      severity: 'general',
      basis: 'GB 38600-2019 6.1',
    },
    {
      id: 'C2',
      category: 'service_safety',
      text: '防食品药品误食：食品与药品分开存放，药品按医嘱核对发放，过期变质食品及时清理',
      textEn: 'Wrong food or medication: stored apart, medication checked against prescriptions, expired food removed',
      severity: 'general',
      basis: 'GB 38600-2019 6.2',
    },
    {
      id: 'C3',
      category: 'service_safety',
      text: '防压疮：对卧床老年人定时翻身、检查皮肤并记录',
      textEn: 'Pressure sores: bedridden residents turned on schedule, skin checked and recorded',
      severity: 'general',
      basis: 'GB 38600-2019 6.3',
    },
    {
      id: 'C4',
      category: 'service_safety',
      text: '防烫伤：热水、热食温度适宜，热水袋等取暖用品有防护并有人查看',
      textEn: 'Scalds: safe water and food temperatures; hot-water bottles and heaters guarded and checked',
      severity: 'general',
      basis: 'GB 38600-2019 6.4',
    },
    {
      id: 'C5',
      category: 'service_safety',
      text: '防坠床：有坠床风险的床位设置床护栏，夜间按时巡视',
      textEn: 'Falls from bed: bed rails for those at risk, night rounds on time',
      severity: 'general',
      basis: 'GB 38600-2019 6.5',
    },
    {
      id: 'C6',
      category: 'service_safety',
      text: '防跌倒：开展跌倒风险评估；地面防滑、通道无障碍、扶手完好、照明充足',
      textEn: 'Falls: fall-risk assessment; non-slip floors, clear corridors, sound handrails, good lighting',
      severity: 'general',
      basis: 'GB 38600-2019 6.6',
    },
    {
      id: 'C7',
      category: 'service_safety',
      text: '防他伤和自伤：刀具、药品等危险物品管控，对有风险的老年人加强看护',
      textEn:
        'Harm to others or self: knives, medicines and other dangerous items controlled; closer care for those at risk',
      severity: 'general',
      basis: 'GB 38600-2019 6.7',
    },
    {
      id: 'C8',
      category: 'service_safety',
      text: '防走失：出入口有管理，有走失风险的老年人佩戴定位设备或信息卡',
      textEn: 'Wandering: entrances controlled; residents at risk wear a locator or an information card',
      severity: 'general',
      basis: 'GB 38600-2019 6.8',
    },
    {
      id: 'C9',
      category: 'service_safety',
      text: '防文娱活动意外：活动前评估，场地设施安全，活动中有人看护',
      textEn: 'Activity accidents: assessment beforehand, safe venue and equipment, supervision throughout',
      severity: 'general',
      basis: 'GB 38600-2019 6.9',
    },
  ],
  note: '依据GB 38600-2019第6章安全风险防范的九个方面；县级可增加本地检查要点。',
};

/** The shipped checklists, parsed (defaults filled in). A fresh copy each call. */
export function builtinChecklists(): Checklist[] {
  return [MCA_2023, GB_38600].map((c) => Checklist.parse(c));
}

export const BUILTIN_CHECKLIST_IDS = ['mca-2023-major-hazards', 'gb-38600-2019'] as const;
