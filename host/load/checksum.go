package load

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"time"
)

// sameFunc says whether the files at a source URL and at Intercom's copy
// hold the same bytes, and when not, why.
type sameFunc func(sourceURL, intercomURL string) (bool, string)

// maxChecksumBytes bounds what verify downloads of one file.
const maxChecksumBytes = 512 << 20

// sameBytes is the checksum comparison of Options.VerifyChecksums, nil
// without it. Intercom keeps its own copy of a file it was given the URL
// of: verify downloads both and compares their SHA-256. The downloads carry
// no credentials (the source's stay with its plugin), so a file only its
// help desk's login can read is not compared, and says so in the log.
func (a *auditor) sameBytes(ctx context.Context) sameFunc {
	if !a.l.opts.VerifyChecksums {
		return nil
	}
	client := &http.Client{Timeout: 5 * time.Minute}
	return func(sourceURL, intercomURL string) (bool, string) {
		want, err := fileSum(ctx, client, sourceURL)
		if err != nil {
			a.l.log.Info("a file's bytes were not compared: the source's copy cannot be downloaded", "url", sourceURL, "reason", err.Error())
			return true, ""
		}
		got, err := fileSum(ctx, client, intercomURL)
		if err != nil {
			return false, "Intercom's copy cannot be downloaded: " + err.Error()
		}
		if want != got {
			return false, fmt.Sprintf("its bytes differ (SHA-256 %x in the source, %x in Intercom)", want[:6], got[:6])
		}
		return true, ""
	}
}

// fileSum downloads url and returns the SHA-256 of its body.
func fileSum(ctx context.Context, client *http.Client, url string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return sum, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return sum, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return sum, fmt.Errorf("GET answered %s", resp.Status)
	}
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(resp.Body, maxChecksumBytes+1))
	if err != nil {
		return sum, fmt.Errorf("download: %w", err)
	}
	if n > maxChecksumBytes {
		return sum, fmt.Errorf("larger than %d MiB", maxChecksumBytes>>20)
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}
