package v1

import (
	"net/http"
	"os"
	"time"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/vax"
)

// nodeJSON describes this node: which host it is and how far it has
// followed the deployment's change feed. Operators use it to see that every
// node keeps up.
type nodeJSON struct {
	Host       string          `json:"host"`
	PID        int             `json:"pid"`
	ChangeFeed *changeFeedJSON `json:"change_feed,omitempty"`
}

type changeFeedJSON struct {
	Position int64        `json:"position"`
	Recent   []changeJSON `json:"recent"`
}

type changeJSON struct {
	Seq        int64     `json:"seq"`
	Kind       string    `json:"kind"`
	Key        string    `json:"key"`
	At         time.Time `json:"at"`
	ReceivedAt time.Time `json:"received_at"`
}

func (s *Server) handleNode(w http.ResponseWriter, r *http.Request) error {
	if err := atLeast(caller(r), vax.RoleNationalAdmin); err != nil {
		return err
	}
	host, _ := os.Hostname()
	out := nodeJSON{Host: host, PID: os.Getpid()}
	if s.feed != nil {
		st := s.feed.Status()
		cf := &changeFeedJSON{Position: st.Position, Recent: []changeJSON{}}
		for _, c := range st.Recent {
			cf.Recent = append(cf.Recent, changeJSON{Seq: c.Seq, Kind: string(c.Kind), Key: c.Key, At: c.At, ReceivedAt: c.ReceivedAt})
		}
		out.ChangeFeed = cf
	}
	return api.WriteJSON(w, http.StatusOK, out)
}
