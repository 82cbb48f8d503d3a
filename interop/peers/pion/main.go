// A WHIP endpoint (RFC 9725, the subset a publisher needs) answered by pion/webrtc v3:
// `pion-whip HOST PORT`. POST /whip -> 201 + Location + pion's answer (gathered in full);
// DELETE /whip/N -> 200 and the PeerConnection closed. Prints one JSON line per event, the
// first being {"listening": ...}, like interop/peers/whip_answerer.js.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/pion/webrtc/v3"
)

var (
	mu       sync.Mutex
	sessions = map[string]*webrtc.PeerConnection{}
	counter  = 0
)

func logLine(fields map[string]interface{}) {
	line, _ := json.Marshal(fields)
	mu.Lock()
	defer mu.Unlock()
	fmt.Println(string(line))
}

func answer(offer string, id string) (string, *webrtc.PeerConnection, error) {
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return "", nil, err
	}
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		logLine(map[string]interface{}{"id": id, "connection": s.String()})
	})
	if err = pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		pc.Close()
		return "", nil, err
	}
	// No local track is added: pion answers the offered media recvonly, as a publisher's endpoint does.
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		pc.Close()
		return "", nil, err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err = pc.SetLocalDescription(ans); err != nil {
		pc.Close()
		return "", nil, err
	}
	<-gathered
	return pc.LocalDescription().SDP, pc, nil
}

var (
	sendLine  = regexp.MustCompile(`(?m)^a=(sendrecv|sendonly)\s*$`)
	quietLine = regexp.MustCompile(`(?m)^a=(recvonly|inactive)\s*$`)
)

func handler(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Expose-Headers", "Location")
	if r.Method == http.MethodOptions && r.URL.Path == "/whip" {
		w.Header().Set("Accept-Post", "application/sdp")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.Path == "/whip" {
		w.WriteHeader(http.StatusNoContent) // GET/HEAD: 2xx without content (RFC 9725 §4.1)
		return
	}
	if r.Method == http.MethodPost && r.URL.Path == "/whip" {
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/sdp") {
			w.WriteHeader(http.StatusUnsupportedMediaType)
			return
		}
		// The publisher must send: an offer with no m-line that sends is refused (RFC 9725 §4.2).
		if !sendLine.Match(body) && quietLine.Match(body) {
			http.Error(w, "the offer sends no media", http.StatusUnprocessableEntity)
			return
		}
		mu.Lock()
		counter++
		id := fmt.Sprint(counter)
		mu.Unlock()
		sdp, pc, err := answer(string(body), id)
		if err != nil {
			logLine(map[string]interface{}{"error": err.Error()})
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		sessions[id] = pc
		mu.Unlock()
		logLine(map[string]interface{}{"id": id, "answer": sdp})
		w.Header().Set("Content-Type", "application/sdp")
		w.Header().Set("Location", "/whip/"+id)
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(sdp))
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/whip/")
	mu.Lock()
	pc, ok := sessions[id]
	if r.Method == http.MethodDelete {
		delete(sessions, id)
	}
	mu.Unlock()
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && ok {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method == http.MethodDelete && ok {
		pc.Close()
		logLine(map[string]interface{}{"id": id, "deleted": true})
		w.WriteHeader(http.StatusOK)
		return
	}
	w.WriteHeader(http.StatusMethodNotAllowed)
}

func main() {
	addr := os.Args[1] + ":" + os.Args[2]
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		logLine(map[string]interface{}{"error": err.Error()})
		os.Exit(1)
	}
	logLine(map[string]interface{}{"listening": addr, "stack": "pion"})
	if err := http.Serve(listener, http.HandlerFunc(handler)); err != nil {
		logLine(map[string]interface{}{"error": err.Error()})
		os.Exit(1)
	}
}
