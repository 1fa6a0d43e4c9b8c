package obs

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel send cmd SIGTERM when this process dies.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
