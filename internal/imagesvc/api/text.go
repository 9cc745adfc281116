package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// readJSONBody reads a request body of at most maxRequestJSON bytes. Its
// text is checked where it is decoded: strictjson refuses invalid UTF-8 and
// lone surrogate escapes, which encoding/json would quietly turn into
// U+FFFD, storing a name or property key the client never sent.
func readJSONBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestJSON))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, fmt.Errorf("reading the request body: %v: %w", err, errs.ErrInvalid)
	}
	return b, nil
}
