package diskcmd

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/units"
)

// Print writes v as indented JSON, or as the table the caller draws.
func Print(w io.Writer, asJSON bool, v any, table func(*tabwriter.Writer)) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// Bytes is the human size used in every table.
func Bytes(n uint64) string { return units.Format(n) }

func diskTable(disks ...agent.Disk) func(*tabwriter.Writer) {
	return func(tw *tabwriter.Writer) {
		fmt.Fprintln(tw, "INSTANCE\tNAME\tIMAGE\tSIZE\tIMAGE ID\tMETHOD\tPARENT")
		for _, d := range disks {
			fmt.Fprintf(tw, "%s\t%s\t%s/%s\t%s\t%s\t%s\t%s\n", d.InstanceID, d.Name, d.Pool, d.Image, Bytes(d.SizeBytes),
				orDash(d.ImageID), orDash(d.Method), orDash(d.Parent))
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
