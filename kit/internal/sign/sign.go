// Package sign makes and checks the archive's signature: an SSH signature
// (the SSHSIG format of `ssh-keygen -Y sign`), so an operator can check it
// with OpenSSH alone, offline:
//
//	ssh-keygen -Y verify -f allowed_signers -I airgap-kit -n airgap-kit -s SHA256SUMS.sig < SHA256SUMS
package sign

import (
	"bytes"
	"fmt"
	"os"

	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// Namespace is the SSHSIG namespace of our signatures, so a signature made
// for another purpose (git commits, files) is never accepted for an archive.
const Namespace = "airgap-kit"

// Signer signs with a private key.
type Signer struct {
	signer ssh.Signer
}

// LoadSigner reads an OpenSSH private key (as `ssh-keygen -t ed25519` writes
// it). Encrypted keys need their passphrase in AIRGAP_KIT_KEY_PASSPHRASE.
func LoadSigner(path string) (*Signer, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if _, missing := err.(*ssh.PassphraseMissingError); missing {
		pass := os.Getenv("AIRGAP_KIT_KEY_PASSPHRASE")
		if pass == "" {
			return nil, fmt.Errorf("signing key %s is encrypted: put its passphrase in AIRGAP_KIT_KEY_PASSPHRASE", path)
		}
		signer, err = ssh.ParsePrivateKeyWithPassphrase(pem, []byte(pass))
	}
	if err != nil {
		return nil, fmt.Errorf("signing key %s is not an OpenSSH private key: %w (make one with: ssh-keygen -t ed25519 -N '' -f %s)", path, err, path)
	}
	return &Signer{signer: signer}, nil
}

// Fingerprint is the SHA256 fingerprint of the signing key, as ssh-keygen -l prints it.
func (s *Signer) Fingerprint() string { return ssh.FingerprintSHA256(s.signer.PublicKey()) }

// Sign returns the armored signature of message.
func (s *Signer) Sign(message []byte) ([]byte, error) {
	sig, err := sshsig.Sign(bytes.NewReader(message), s.signer, sshsig.HashSHA512, Namespace)
	if err != nil {
		return nil, err
	}
	return sshsig.Armor(sig), nil
}

// PublicKey is a key signatures are checked against.
type PublicKey struct {
	key ssh.PublicKey
}

// LoadPublicKey reads a public key: an authorized_keys line (`ssh-ed25519
// AAAA… comment`, as in key.pub) or an allowed_signers line
// (`airgap-kit ssh-ed25519 AAAA…`).
func LoadPublicKey(path string) (*PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	return ParsePublicKey(data, path)
}

// ParsePublicKey parses the text of a public key file; name is for messages.
func ParsePublicKey(data []byte, name string) (*PublicKey, error) {
	for _, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if key, _, _, _, err := ssh.ParseAuthorizedKey(line); err == nil {
			return &PublicKey{key: key}, nil
		}
		// allowed_signers: principals first, then the key.
		if f := bytes.Fields(line); len(f) >= 3 {
			if key, _, _, _, err := ssh.ParseAuthorizedKey(bytes.Join(f[1:], []byte(" "))); err == nil {
				return &PublicKey{key: key}, nil
			}
		}
	}
	return nil, fmt.Errorf("public key %s holds no OpenSSH public key (expected a line such as \"ssh-ed25519 AAAA… name\", as in the .pub file ssh-keygen wrote)", name)
}

// Fingerprint is the SHA256 fingerprint of the key.
func (p *PublicKey) Fingerprint() string { return ssh.FingerprintSHA256(p.key) }

// Verify checks an armored signature of message. The error says whether the
// signature is malformed, made by another key, or does not match.
func (p *PublicKey) Verify(message, armored []byte) error {
	sig, err := sshsig.Unarmor(armored)
	if err != nil {
		return fmt.Errorf("the signature is not an SSH signature: %w", err)
	}
	if signer := ssh.FingerprintSHA256(sig.PublicKey); signer != p.Fingerprint() {
		return fmt.Errorf("the signature was made by key %s, not by the trusted key %s", signer, p.Fingerprint())
	}
	if sig.Namespace != Namespace {
		return fmt.Errorf("the signature is for namespace %q, not %q", sig.Namespace, Namespace)
	}
	if err := sshsig.Verify(bytes.NewReader(message), sig, p.key, sig.HashAlgorithm, Namespace); err != nil {
		return fmt.Errorf("the signature does not match the signed file (%v)", err)
	}
	return nil
}
