// ISC license.
#include "sys/exitcodes.h"

namespace qf::qq {

char const* describe(int code) {
  switch (code) {
    case ok: return "ok";
    case addr_too_long: return "Denvelope address too long for qq (#5.1.3)";
    case refused: return "Dmail server permanently rejected message (#5.3.0)";
    case nomem: return "Zqq out of memory (#4.3.0)";
    case timeout: return "Zqq timeout (#4.3.0)";
    case write: return "Zqq write error or disk full (#4.3.0)";
    case read: return "Zqq read error (#4.3.0)";
    case config: return "Zqq unable to read configuration (#4.3.0)";
    case network: return "Zqq trouble making network connection (#4.3.0)";
    case home: return "Zqq trouble in home directory (#4.3.0)";
    case queuedir: case pid: case mess: case intd: case todo:
      return "Zqq trouble creating files in queue (#4.3.0)";
    case temp_refused: return "Zmail server temporarily rejected message (#4.3.0)";
    case 72: return "Zconnection to mail server timed out (#4.4.1)";
    case 73: return "Zconnection to mail server rejected (#4.4.1)";
    case 74: return "Zcommunication with mail server failed (#4.4.2)";
    case envelope:  // qmail's clients report 91 as a bug too: retry, never bounce
    case bug: return "Zqq internal bug (#4.3.0)";
    case 120: return "Zunable to run qq (#4.3.0)";
    default:
      return permanent(code) ? "Dqq permanent problem (#5.3.0)" : "Zqq temporary problem (#4.3.0)";
  }
}

}  // namespace qf::qq
