import { locale } from './i18n';

/**
 * The audit log's actions (`alert.acknowledge`, `login_failed`, … as the server records them) in
 * words: an administrator reads what happened, not the code.
 */
const ACTIONS: Readonly<Record<string, readonly [string, string]>> = {
  login: ['登录', 'Signed in'],
  login_failed: ['登录失败', 'Failed sign-in'],
  kiosk_login: ['大屏登录', 'Wall screen signed in'],
  logout: ['退出登录', 'Signed out'],
  'alert.acknowledge': ['确认告警', 'Acknowledged an alert'],
  'alert.verify': ['核实告警', 'Verified an alert'],
  'alert.close': ['关闭告警', 'Closed an alert'],
  'user.create': ['新建用户', 'Created a user'],
  'user.update': ['修改用户', 'Changed a user'],
  'kiosk.create': ['签发大屏令牌', 'Issued a wall-screen token'],
  'kiosk.revoke': ['吊销大屏令牌', 'Revoked a wall-screen token'],
  'institution.create': ['新建机构', 'Created an institution'],
  'institution.update': ['修改机构', 'Changed an institution'],
  'gateway.create': ['新建网关', 'Added a gateway'],
  'gateway.update': ['修改网关', 'Changed a gateway'],
  'gateway.rotate': ['更换网关密钥', 'Rotated a gateway secret'],
  'gateway.enable': ['启用网关', 'Enabled a gateway'],
  'gateway.disable': ['停用网关', 'Disabled a gateway'],
  'device.create': ['新建设备', 'Added a device'],
  'device.update': ['修改设备', 'Changed a device'],
  'device.delete': ['删除设备', 'Deleted a device'],
  'contacts.replace': ['修改联系人', 'Changed contacts'],
  'registry.export': ['导出登记表', 'Exported the registry'],
  'registry.import': ['导入登记表', 'Imported the registry'],
  'silence.create': ['新建静默', 'Created a silence'],
  'silence.expire': ['结束静默', 'Ended a silence'],
  'drill.create': ['开始演练', 'Started a drill'],
  'drill.end': ['结束演练', 'Ended a drill'],
  'policy.set': ['修改升级策略', 'Changed an escalation policy'],
  'duty-check.request': ['发起查岗', 'Started a duty check'],
};

export function auditActionText(action: string): string {
  const words = ACTIONS[action];
  if (!words) return locale.value === 'zh' ? '其他操作' : 'Other action';
  return locale.value === 'zh' ? words[0] : words[1];
}
