//go:build unix

package report

import (
	"os/exec"
	"syscall"
)

// ownGroup starts cmd in a process group of its own, so that a cancel
// stops the browser and every helper process it forked.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}

// stopGroup ends what is left of the group cmd started.
func stopGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
