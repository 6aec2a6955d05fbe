package sim

import (
	"fmt"
	"strings"

	"github.com/zabkit/zabkit/sim/vdisk"
)

// NewDisk makes the virtual disk of the named host, drawing from its own stream
// ("disk/<host>") and writing every disk event into the world's trace.
func NewDisk(w *World, hostName string, faults vdisk.Faults) *vdisk.Disk {
	d := vdisk.New(w.Stream("disk/" + hostName))
	d.SetFaults(faults)
	if faults != (vdisk.Faults{}) {
		w.Set("disk."+hostName, fmt.Sprintf("%+v", faults))
	}
	d.SetObserver(func(e vdisk.Event) {
		w.Trace.Add(Event{At: w.Now(), Kind: KindDisk, Host: hostName, Size: e.Bytes, Text: strings.TrimPrefix(e.String(), "disk ")})
	})
	return d
}
