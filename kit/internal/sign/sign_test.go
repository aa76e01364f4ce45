package sign

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// newKey makes an ed25519 key pair with ssh-keygen, as an operator would.
func newKey(t *testing.T, dir, name string) (priv, pub string) {
	t.Helper()
	priv = filepath.Join(dir, name)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", priv).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	return priv, priv + ".pub"
}

func TestSignVerifyAndRefusals(t *testing.T) {
	dir := t.TempDir()
	priv, pub := newKey(t, dir, "kit")
	_, otherPub := newKey(t, dir, "other")
	s, err := LoadSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("SHA256SUMS content\n")
	sig, err := s.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(sig, []byte("-----BEGIN SSH SIGNATURE-----\n")) {
		t.Fatalf("not armored: %q", sig[:40])
	}
	key, err := LoadPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := key.Verify(msg, sig); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := key.Verify(append(msg, 'x'), sig); err == nil || !strings.Contains(err.Error(), "does not match the signed file") {
		t.Fatalf("changed message: %v", err)
	}
	other, _ := LoadPublicKey(otherPub)
	if err := other.Verify(msg, sig); err == nil || !strings.Contains(err.Error(), "was made by key "+s.Fingerprint()+", not by the trusted key "+other.Fingerprint()) {
		t.Fatalf("wrong key: %v", err)
	}
	if err := key.Verify(msg, []byte("garbage")); err == nil || !strings.Contains(err.Error(), "not an SSH signature") {
		t.Fatalf("garbage: %v", err)
	}
}

// OpenSSH itself verifies our signatures, and we verify its signatures: the
// format is the standard one, checkable on the far side with ssh-keygen alone.
func TestInteropWithSSHKeygen(t *testing.T) {
	dir := t.TempDir()
	priv, pub := newKey(t, dir, "kit")
	s, _ := LoadSigner(priv)
	msgPath := filepath.Join(dir, "SHA256SUMS")
	msg := []byte(strings.Repeat("a", 64) + "  file\n")
	os.WriteFile(msgPath, msg, 0o644)
	sig, _ := s.Sign(msg)
	os.WriteFile(msgPath+".sig", sig, 0o644)
	pubText, _ := os.ReadFile(pub)
	allowed := filepath.Join(dir, "allowed_signers")
	os.WriteFile(allowed, []byte("airgap-kit "+string(pubText)), 0o644)

	verify := exec.Command("ssh-keygen", "-Y", "verify", "-f", allowed, "-I", "airgap-kit", "-n", Namespace, "-s", msgPath+".sig")
	verify.Stdin = bytes.NewReader(msg)
	if out, err := verify.CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -Y verify refused our signature: %v: %s", err, out)
	}

	if out, err := exec.Command("ssh-keygen", "-Y", "sign", "-f", priv, "-n", Namespace, msgPath).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -Y sign: %v: %s", err, out)
	}
	theirs, _ := os.ReadFile(msgPath + ".sig")
	key, _ := ParsePublicKey([]byte("airgap-kit "+string(pubText)), "allowed_signers")
	if err := key.Verify(msg, theirs); err != nil {
		t.Fatalf("we refused ssh-keygen's signature: %v", err)
	}
	wrongNS := exec.Command("ssh-keygen", "-Y", "sign", "-f", priv, "-n", "git", msgPath)
	os.Remove(msgPath + ".sig")
	if out, err := wrongNS.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	gitSig, _ := os.ReadFile(msgPath + ".sig")
	if err := key.Verify(msg, gitSig); err == nil || !strings.Contains(err.Error(), `namespace "git"`) {
		t.Fatalf("a signature for another namespace was accepted: %v", err)
	}
}

func TestKeyErrorsSayWhatToDo(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("not a key"), 0o600)
	if _, err := LoadSigner(bad); err == nil || !strings.Contains(err.Error(), "ssh-keygen -t ed25519") {
		t.Fatalf("LoadSigner: %v", err)
	}
	if _, err := LoadPublicKey(bad); err == nil || !strings.Contains(err.Error(), "holds no OpenSSH public key") {
		t.Fatalf("LoadPublicKey: %v", err)
	}
}
