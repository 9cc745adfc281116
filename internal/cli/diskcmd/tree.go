package diskcmd

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/agent"
)

// TreeNode is one image with its parents (its own snapshot, a base, or none)
// and the disks under each; a base without disks has an empty list.
type TreeNode struct {
	ImageID string              `json:"image_id"`
	Parents map[string][]string `json:"parents"` // parent -> disks ("" = no parent)
}

func treeCmd(client *agent.Client, asJSON *bool) *cobra.Command {
	return &cobra.Command{
		Use: "tree", Short: "Show image -> base -> disks", Args: cobra.NoArgs,
		Example: `  cowdisk disk tree
  cowdisk disk tree --json`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			disks, err := client.ListDisks(cmd.Context(), "")
			if err != nil {
				return err
			}
			bases, err := client.Cache(cmd.Context())
			var ae *agent.APIError
			if errors.As(err, &ae) && ae.Status == http.StatusForbidden {
				// The cache is admin/service only: a project sees the
				// tree of its own disks, without unused bases.
				bases, err = nil, nil
			}
			if err != nil {
				return err
			}
			nodes := buildTree(disks, bases)
			if *asJSON {
				return Print(cmd.OutOrStdout(), true, nodes, nil)
			}
			drawTree(cmd.OutOrStdout(), nodes)
			return nil
		},
	}
}

func buildTree(disks []agent.Disk, bases []agent.Base) []TreeNode {
	byImage := map[string]*TreeNode{}
	node := func(id string) *TreeNode {
		if byImage[id] == nil {
			byImage[id] = &TreeNode{ImageID: id, Parents: map[string][]string{}}
		}
		return byImage[id]
	}
	for _, b := range bases {
		node(b.ImageID).Parents[BaseRef(b)] = []string{}
	}
	for _, d := range disks {
		n := node(d.ImageID)
		n.Parents[d.Parent] = append(n.Parents[d.Parent], d.Pool+"/"+d.Image)
	}
	out := make([]TreeNode, 0, len(byImage))
	for _, n := range byImage {
		out = append(out, *n)
	}
	slices.SortFunc(out, func(a, b TreeNode) int { return strings.Compare(a.ImageID, b.ImageID) })
	return out
}

// BaseRef names a base as disks name their parent: pool/image@snapshot,
// or the file's path for the local backend, whose bases have no snapshot.
func BaseRef(b agent.Base) string {
	if b.Snapshot == "" {
		return b.Pool + "/" + b.Image
	}
	return b.Pool + "/" + b.Image + "@" + b.Snapshot
}

func drawTree(w io.Writer, nodes []TreeNode) {
	for _, n := range nodes {
		fmt.Fprintf(w, "image %s\n", orDash(n.ImageID))
		parents := make([]string, 0, len(n.Parents))
		for p := range n.Parents {
			parents = append(parents, p)
		}
		slices.Sort(parents)
		for i, p := range parents {
			branch, indent := "├── ", "│   "
			if i == len(parents)-1 {
				branch, indent = "└── ", "    "
			}
			label := p
			if p == "" {
				label = "(no parent: imported or flattened)"
			}
			fmt.Fprintf(w, "%s%s\n", branch, label)
			kids := n.Parents[p]
			slices.Sort(kids)
			for j, k := range kids {
				b := "├── "
				if j == len(kids)-1 {
					b = "└── "
				}
				fmt.Fprintf(w, "%s%s%s\n", indent, b, k)
			}
		}
	}
}
