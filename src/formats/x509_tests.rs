//! Tests of the X.509 parser. The certificates are throwaway test certificates generated once,
//! offline, with openssl 3.0 (no private key is kept):
//! `openssl req -x509 -newkey rsa:2048 -nodes -subj "/C=US/O=Contoso Test/CN=Contoso Test Root CA"`
//! (CA: TRUE) and an EC P-256 leaf `CN=mail.contoso.com` signed by it, serial `0x1A2B3C4D5E6F`,
//! `subjectAltName=DNS:mail.contoso.com,DNS:*.contoso.com,DNS:Autodiscover.Contoso.com,IP:10.0.0.20`.
//! Expected thumbprints are `openssl x509 -noout -fingerprint -sha1` of the same files.

use super::*;

const CA_PEM: &str = r#"-----BEGIN CERTIFICATE-----
MIIDdzCCAl+gAwIBAgIUFwsddueu/UIhfLyRP9HF/Mf3dMswDQYJKoZIhvcNAQEL
BQAwQzELMAkGA1UEBhMCVVMxFTATBgNVBAoMDENvbnRvc28gVGVzdDEdMBsGA1UE
AwwUQ29udG9zbyBUZXN0IFJvb3QgQ0EwHhcNMjYxMTIyMDgzMjM4WhcNMzYxMTE5
MDgzMjM4WjBDMQswCQYDVQQGEwJVUzEVMBMGA1UECgwMQ29udG9zbyBUZXN0MR0w
GwYDVQQDDBRDb250b3NvIFRlc3QgUm9vdCBDQTCCASIwDQYJKoZIhvcNAQEBBQAD
ggEPADCCAQoCggEBAMLHWNxt4aL0NZJBuWuVbE8r5XrdW/iK7fzgJFqFLvwTWN3C
eTJwrBmNcy52heopZ9Mc9ldCEilidqgQiZSBgtCru3db+xwQ2kdXkpw02sEx2Jp4
0HhvC425dKj01gq7dJP6rPmMBLYWprnCLUqjTgxSCzybq02pIo6DeAGD5IojwBNr
dK7nWHGDT/+pMa0V/ha5/SbDEFgo+EwKgeojAZEfayjxW6GeHi9jRNIbVrvs1a5c
Y/cAtZneU3M4GXjNRIaJUmfSDSHbKEwrvUjp6RREgMuQD2AkjGh4encizWcFTM/H
HUZci4SdHJUZOSVsgO29sBRUTUSHoOLM7XbM7E8CAwEAAaNjMGEwHQYDVR0OBBYE
FCgZe6GdldoAynq4vqKZzD4Utr7XMB8GA1UdIwQYMBaAFCgZe6GdldoAynq4vqKZ
zD4Utr7XMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMA0GCSqGSIb3
DQEBCwUAA4IBAQAvd0i+vt1N+ACvwSdb7xDWj3JUamYJhvjZUTMOzF+2k4vSQ3Pq
tJX0J1mh4YkZBMKr8JK4oM7I7RuXcX+iiRoG0wYVDUtiElWnpKtajnjufUbyyUCC
F+BGSA4kBS1bA5dRW9T8Xi4BtO+J1qO9xcxuL6Gmmg0Vgc2ub9VI8XO46zUvso9m
/YNF2GW/A2v8wdzZFE0uowXYWM5scKOjiZy6kb0PaqEVTKp0j2PEzpfNBZF7nI5y
YX6dSc7hT7tjn5l+OvzukeXzxPHhud/mZ9zALd/1cgS3CyEfO/4hXkq5w8MNZlRf
BXT9OmTGTtvA5QxSJyGC2FW0EDLFlma+fJgM
-----END CERTIFICATE-----
"#;

const LEAF_PEM: &str = r#"-----BEGIN CERTIFICATE-----
MIIC+zCCAeOgAwIBAgIGGis8TV5vMA0GCSqGSIb3DQEBCwUAMEMxCzAJBgNVBAYT
AlVTMRUwEwYDVQQKDAxDb250b3NvIFRlc3QxHTAbBgNVBAMMFENvbnRvc28gVGVz
dCBSb290IENBMB4XDTI2MTEyMjA4MzIzOFoXDTI5MDIyNDA4MzIzOFowUzELMAkG
A1UEBhMCVVMxFTATBgNVBAoMDENvbnRvc28gVGVzdDESMBAGA1UECwwJTWVzc2Fn
aW5nMRkwFwYDVQQDDBBtYWlsLmNvbnRvc28uY29tMFkwEwYHKoZIzj0CAQYIKoZI
zj0DAQcDQgAEDxxcaHJWWDxdPIAZeu9REY5s/GkSrnmXR9njd9yU7zEBn1TcHxjx
fBJoCR+1NYfq7Zl8vitEdOTR5SI8RFVixaOBrzCBrDBKBgNVHREEQzBBghBtYWls
LmNvbnRvc28uY29tgg0qLmNvbnRvc28uY29tghhBdXRvZGlzY292ZXIuQ29udG9z
by5jb22HBAoAABQwCQYDVR0TBAIwADATBgNVHSUEDDAKBggrBgEFBQcDATAdBgNV
HQ4EFgQU6t9CnTydSdY/4HmhiIoIkzBrkGMwHwYDVR0jBBgwFoAUKBl7oZ2V2gDK
eri+opnMPhS2vtcwDQYJKoZIhvcNAQELBQADggEBAHNWDMOHNBt3SxObGWfIThPw
a9B6nRi1zzOuKR3uG0NqEARB3/NhHF9wtwky0gEe2iuDmrNk6zaYjSRqc4yyy2Nh
+kYREhCPMK9N/hYa8JnAkUZ4FQUhDhdsism3Ly9gGGsx5IkXOssg+nMTc1PN8rVF
yayrsMSIfbVOkemC/JH23wtXjxxx8VDocqsc1xRjQv0giBnJlXRGmhA2DjVS58fO
9UE4bfo4+T2Au19G2uRAmpsLKmnt0QrDtfIKIGQRBUMKEx3ntoGgCPaZLAYh+oHF
dmKBIBaHDApBBunWvsajSvgNKzb42cW/USoBmW8mOIPr6V0tZKc+KoAmnW0iFRM=
-----END CERTIFICATE-----
"#;

/// `openssl x509 -in leaf.pem -text` (the dump, then the PEM).
const LEAF_TEXT_PEM: &str = r#"Certificate:
    Data:
        Version: 3 (0x2)
        Serial Number: 28772997619311 (0x1a2b3c4d5e6f)
        Signature Algorithm: sha256WithRSAEncryption
        Issuer: C = US, O = Contoso Test, CN = Contoso Test Root CA
        Validity
            Not Before: Nov 22 08:32:38 2026 GMT
            Not After : Feb 24 08:32:38 2029 GMT
        Subject: C = US, O = Contoso Test, OU = Messaging, CN = mail.contoso.com
        Subject Public Key Info:
            Public Key Algorithm: id-ecPublicKey
                Public-Key: (256 bit)
                pub:
                    04:0f:1c:5c:68:72:56:58:3c:5d:3c:80:19:7a:ef:
                    51:11:8e:6c:fc:69:12:ae:79:97:47:d9:e3:77:dc:
                    94:ef:31:01:9f:54:dc:1f:18:f1:7c:12:68:09:1f:
                    b5:35:87:ea:ed:99:7c:be:2b:44:74:e4:d1:e5:22:
                    3c:44:55:62:c5
                ASN1 OID: prime256v1
                NIST CURVE: P-256
        X509v3 extensions:
            X509v3 Subject Alternative Name: 
                DNS:mail.contoso.com, DNS:*.contoso.com, DNS:Autodiscover.Contoso.com, IP Address:10.0.0.20
            X509v3 Basic Constraints: 
                CA:FALSE
            X509v3 Extended Key Usage: 
                TLS Web Server Authentication
            X509v3 Subject Key Identifier: 
                EA:DF:42:9D:3C:9D:49:D6:3F:E0:79:A1:88:8A:08:93:30:6B:90:63
            X509v3 Authority Key Identifier: 
                28:19:7B:A1:9D:95:DA:00:CA:7A:B8:BE:A2:99:CC:3E:14:B6:BE:D7
    Signature Algorithm: sha256WithRSAEncryption
    Signature Value:
        73:56:0c:c3:87:34:1b:77:4b:13:9b:19:67:c8:4e:13:f0:6b:
        d0:7a:9d:18:b5:cf:33:ae:29:1d:ee:1b:43:6a:10:04:41:df:
        f3:61:1c:5f:70:b7:09:32:d2:01:1e:da:2b:83:9a:b3:64:eb:
        36:98:8d:24:6a:73:8c:b2:cb:63:61:fa:46:11:12:10:8f:30:
        af:4d:fe:16:1a:f0:99:c0:91:46:78:15:05:21:0e:17:6c:8a:
        c9:b7:2f:2f:60:18:6b:31:e4:89:17:3a:cb:20:fa:73:13:73:
        53:cd:f2:b5:45:c9:ac:ab:b0:c4:88:7d:b5:4e:91:e9:82:fc:
        91:f6:df:0b:57:8f:1c:71:f1:50:e8:72:ab:1c:d7:14:63:42:
        fd:20:88:19:c9:95:74:46:9a:10:36:0e:35:52:e7:c7:ce:f5:
        41:38:6d:fa:38:f9:3d:80:bb:5f:46:da:e4:40:9a:9b:0b:2a:
        69:ed:d1:0a:c3:b5:f2:0a:20:64:11:05:43:0a:13:1d:e7:b6:
        81:a0:08:f6:99:2c:06:21:fa:81:c5:76:62:81:20:16:87:0c:
        0a:41:06:e9:d6:be:c6:a3:4a:f8:0d:2b:36:f8:d9:c5:bf:51:
        2a:01:99:6f:26:38:83:eb:e9:5d:2d:64:a7:3e:2a:80:26:9d:
        6d:22:15:13
-----BEGIN CERTIFICATE-----
MIIC+zCCAeOgAwIBAgIGGis8TV5vMA0GCSqGSIb3DQEBCwUAMEMxCzAJBgNVBAYT
AlVTMRUwEwYDVQQKDAxDb250b3NvIFRlc3QxHTAbBgNVBAMMFENvbnRvc28gVGVz
dCBSb290IENBMB4XDTI2MTEyMjA4MzIzOFoXDTI5MDIyNDA4MzIzOFowUzELMAkG
A1UEBhMCVVMxFTATBgNVBAoMDENvbnRvc28gVGVzdDESMBAGA1UECwwJTWVzc2Fn
aW5nMRkwFwYDVQQDDBBtYWlsLmNvbnRvc28uY29tMFkwEwYHKoZIzj0CAQYIKoZI
zj0DAQcDQgAEDxxcaHJWWDxdPIAZeu9REY5s/GkSrnmXR9njd9yU7zEBn1TcHxjx
fBJoCR+1NYfq7Zl8vitEdOTR5SI8RFVixaOBrzCBrDBKBgNVHREEQzBBghBtYWls
LmNvbnRvc28uY29tgg0qLmNvbnRvc28uY29tghhBdXRvZGlzY292ZXIuQ29udG9z
by5jb22HBAoAABQwCQYDVR0TBAIwADATBgNVHSUEDDAKBggrBgEFBQcDATAdBgNV
HQ4EFgQU6t9CnTydSdY/4HmhiIoIkzBrkGMwHwYDVR0jBBgwFoAUKBl7oZ2V2gDK
eri+opnMPhS2vtcwDQYJKoZIhvcNAQELBQADggEBAHNWDMOHNBt3SxObGWfIThPw
a9B6nRi1zzOuKR3uG0NqEARB3/NhHF9wtwky0gEe2iuDmrNk6zaYjSRqc4yyy2Nh
+kYREhCPMK9N/hYa8JnAkUZ4FQUhDhdsism3Ly9gGGsx5IkXOssg+nMTc1PN8rVF
yayrsMSIfbVOkemC/JH23wtXjxxx8VDocqsc1xRjQv0giBnJlXRGmhA2DjVS58fO
9UE4bfo4+T2Au19G2uRAmpsLKmnt0QrDtfIKIGQRBUMKEx3ntoGgCPaZLAYh+oHF
dmKBIBaHDApBBunWvsajSvgNKzb42cW/USoBmW8mOIPr6V0tZKc+KoAmnW0iFRM=
-----END CERTIFICATE-----
"#;

/// `openssl x509 -in ca.pem -noout -text -fingerprint -sha1`.
const CA_TEXT_FP: &str = r#"Certificate:
    Data:
        Version: 3 (0x2)
        Serial Number:
            17:0b:1d:76:e7:ae:fd:42:21:7c:bc:91:3f:d1:c5:fc:c7:f7:74:cb
        Signature Algorithm: sha256WithRSAEncryption
        Issuer: C = US, O = Contoso Test, CN = Contoso Test Root CA
        Validity
            Not Before: Nov 22 08:32:38 2026 GMT
            Not After : Nov 19 08:32:38 2036 GMT
        Subject: C = US, O = Contoso Test, CN = Contoso Test Root CA
        Subject Public Key Info:
            Public Key Algorithm: rsaEncryption
                Public-Key: (2048 bit)
                Modulus:
                    00:c2:c7:58:dc:6d:e1:a2:f4:35:92:41:b9:6b:95:
                    6c:4f:2b:e5:7a:dd:5b:f8:8a:ed:fc:e0:24:5a:85:
                    2e:fc:13:58:dd:c2:79:32:70:ac:19:8d:73:2e:76:
                    85:ea:29:67:d3:1c:f6:57:42:12:29:62:76:a8:10:
                    89:94:81:82:d0:ab:bb:77:5b:fb:1c:10:da:47:57:
                    92:9c:34:da:c1:31:d8:9a:78:d0:78:6f:0b:8d:b9:
                    74:a8:f4:d6:0a:bb:74:93:fa:ac:f9:8c:04:b6:16:
                    a6:b9:c2:2d:4a:a3:4e:0c:52:0b:3c:9b:ab:4d:a9:
                    22:8e:83:78:01:83:e4:8a:23:c0:13:6b:74:ae:e7:
                    58:71:83:4f:ff:a9:31:ad:15:fe:16:b9:fd:26:c3:
                    10:58:28:f8:4c:0a:81:ea:23:01:91:1f:6b:28:f1:
                    5b:a1:9e:1e:2f:63:44:d2:1b:56:bb:ec:d5:ae:5c:
                    63:f7:00:b5:99:de:53:73:38:19:78:cd:44:86:89:
                    52:67:d2:0d:21:db:28:4c:2b:bd:48:e9:e9:14:44:
                    80:cb:90:0f:60:24:8c:68:78:7a:77:22:cd:67:05:
                    4c:cf:c7:1d:46:5c:8b:84:9d:1c:95:19:39:25:6c:
                    80:ed:bd:b0:14:54:4d:44:87:a0:e2:cc:ed:76:cc:
                    ec:4f
                Exponent: 65537 (0x10001)
        X509v3 extensions:
            X509v3 Subject Key Identifier: 
                28:19:7B:A1:9D:95:DA:00:CA:7A:B8:BE:A2:99:CC:3E:14:B6:BE:D7
            X509v3 Authority Key Identifier: 
                28:19:7B:A1:9D:95:DA:00:CA:7A:B8:BE:A2:99:CC:3E:14:B6:BE:D7
            X509v3 Basic Constraints: critical
                CA:TRUE
            X509v3 Key Usage: critical
                Certificate Sign, CRL Sign
    Signature Algorithm: sha256WithRSAEncryption
    Signature Value:
        2f:77:48:be:be:dd:4d:f8:00:af:c1:27:5b:ef:10:d6:8f:72:
        54:6a:66:09:86:f8:d9:51:33:0e:cc:5f:b6:93:8b:d2:43:73:
        ea:b4:95:f4:27:59:a1:e1:89:19:04:c2:ab:f0:92:b8:a0:ce:
        c8:ed:1b:97:71:7f:a2:89:1a:06:d3:06:15:0d:4b:62:12:55:
        a7:a4:ab:5a:8e:78:ee:7d:46:f2:c9:40:82:17:e0:46:48:0e:
        24:05:2d:5b:03:97:51:5b:d4:fc:5e:2e:01:b4:ef:89:d6:a3:
        bd:c5:cc:6e:2f:a1:a6:9a:0d:15:81:cd:ae:6f:d5:48:f1:73:
        b8:eb:35:2f:b2:8f:66:fd:83:45:d8:65:bf:03:6b:fc:c1:dc:
        d9:14:4d:2e:a3:05:d8:58:ce:6c:70:a3:a3:89:9c:ba:91:bd:
        0f:6a:a1:15:4c:aa:74:8f:63:c4:ce:97:cd:05:91:7b:9c:8e:
        72:61:7e:9d:49:ce:e1:4f:bb:63:9f:99:7e:3a:fc:ee:91:e5:
        f3:c4:f1:e1:b9:df:e6:67:dc:c0:2d:df:f5:72:04:b7:0b:21:
        1f:3b:fe:21:5e:4a:b9:c3:c3:0d:66:54:5f:05:74:fd:3a:64:
        c6:4e:db:c0:e5:0c:52:27:21:82:d8:55:b4:10:32:c5:96:66:
        be:7c:98:0c
sha1 Fingerprint=3E:E3:E5:AC:1A:68:E7:09:50:29:45:0B:43:33:43:B4:E5:E6:34:B5
"#;

const LEAF_SHA1: &str = "68B9DF5D66C6D9453BBD72B048EBEA5BF0EBCCFE";
const CA_SHA1: &str = "3EE3E5AC1A68E7095029450B433343B4E5E634B5";

fn run(text: &str) -> Parsed {
    parse_text(&FileCtx::new("IMP01/certs/cup-trust/chain.pem"), text)
}

fn props(e: &Event) -> &Props {
    match &e.body {
        Body::Object {
            command: Some(c),
            props,
            ..
        } if c == COMMAND => props,
        other => panic!("not a certificate: {other:?}"),
    }
}

fn san(p: &Props) -> Vec<&str> {
    p.get("SAN").map(Value::items).unwrap_or_default()
}

fn leaf_der() -> Vec<u8> {
    let b64: String = LEAF_PEM
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    base64_decode(&b64).unwrap_or_default()
}

fn assert_leaf(p: &Props) {
    assert_eq!(
        p.text("Subject"),
        Some("CN=mail.contoso.com, OU=Messaging, O=Contoso Test, C=US")
    );
    assert_eq!(p.text("CN"), Some("mail.contoso.com"));
    assert_eq!(
        san(p),
        vec![
            "mail.contoso.com",
            "*.contoso.com",
            "autodiscover.contoso.com",
            "10.0.0.20"
        ]
    );
    assert_eq!(
        p.text("Issuer"),
        Some("CN=Contoso Test Root CA, O=Contoso Test, C=US")
    );
    assert_eq!(p.text("IssuerCN"), Some("Contoso Test Root CA"));
    assert_eq!(p.text("NotBefore"), Some("2026-11-22T08:32:38Z"));
    assert_eq!(p.text("NotAfter"), Some("2029-02-24T08:32:38Z"));
    assert_eq!(p.text("SerialNumber"), Some("1A2B3C4D5E6F"));
    assert_eq!(p.text("IsCA"), Some("False"));
    assert_eq!(p.text("SelfSigned"), Some("False"));
    assert_eq!(p.text("KeySize"), Some("256"));
    assert_eq!(
        p.text("SignatureAlgorithm"),
        Some("sha256WithRSAEncryption")
    );
}

#[test]
fn single_pem_with_wildcard_and_ip_san() {
    let p = run(LEAF_PEM);
    assert_eq!((p.parsed, p.rejected), (1, 0));
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let e = &p.events[0];
    let pr = props(e);
    assert_leaf(pr);
    // Equal to `openssl x509 -noout -fingerprint -sha1` of the same certificate.
    assert_eq!(pr.text("Thumbprint"), Some(LEAF_SHA1));
    assert_eq!((e.loc.line, e.loc.record, e.loc.offset), (1, 1, 0));
    assert_eq!((e.time, e.ts_kind), (None, crate::model::TsKind::None));
    assert_eq!(e.host, None);
    assert_eq!(
        e.excerpt,
        format!("X509Certificate CN=mail.contoso.com, OU=Messaging, O=Contoso Test, C=US IssuerCN=Contoso Test Root CA NotAfter=2029-02-24T08:32:38Z Thumbprint={LEAF_SHA1}")
    );
    let names: Vec<&str> = pr.0.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "Subject",
            "CN",
            "SAN",
            "Issuer",
            "IssuerCN",
            "NotBefore",
            "NotAfter",
            "Thumbprint",
            "SerialNumber",
            "IsCA",
            "SelfSigned",
            "KeySize",
            "SignatureAlgorithm"
        ]
    );
}

#[test]
fn chain_of_two_with_openssl_bag_attributes() {
    let text = format!(
        "Bag Attributes\r\n    friendlyName: mail\r\nsubject=C = US, O = Contoso Test, OU = Messaging, CN = mail.contoso.com\r\n\r\nissuer=C = US, O = Contoso Test, CN = Contoso Test Root CA\r\n{}\r\n{}",
        LEAF_PEM.replace('\n', "\r\n"),
        CA_PEM
    );
    let p = run(&text);
    assert_eq!((p.parsed, p.rejected), (2, 0), "{:?}", p.diagnostics);
    assert!(p.diagnostics.is_empty());
    assert_leaf(props(&p.events[0]));
    assert_eq!(p.events[0].loc.line, 6);
    let ca = props(&p.events[1]);
    assert_eq!(ca.text("Thumbprint"), Some(CA_SHA1));
    assert_eq!(ca.text("CN"), Some("contoso test root ca"));
    assert!(san(ca).is_empty());
    assert_eq!(ca.text("IsCA"), Some("True"));
    assert_eq!(ca.text("SelfSigned"), Some("True"));
    assert_eq!(ca.text("KeySize"), Some("2048"));
    assert_eq!(
        ca.text("SerialNumber"),
        Some("170B1D76E7AEFD42217CBC913FD1C5FCC7F774CB")
    );
    assert_eq!(p.events[1].loc.record, 2);
}

#[test]
fn der_file() {
    let der = leaf_der();
    assert_eq!(der.len(), 767);
    assert_eq!(
        crate::input::sniff::sniff_bytes(&der),
        crate::input::Kind::Format(Format::X509)
    );
    let p = parse_der(&FileCtx::new("EX01/mail.cer"), &der);
    assert_eq!((p.parsed, p.rejected), (1, 0));
    assert!(p.diagnostics.is_empty());
    let pr = props(&p.events[0]);
    assert_leaf(pr);
    assert_eq!(pr.text("Thumbprint"), Some(LEAF_SHA1));
    assert_eq!(p.events[0].loc.line, 0);
    // Trailing bytes: kept, with a warning; the thumbprint covers the certificate only.
    let mut more = der.clone();
    more.extend_from_slice(b"\0\0junk");
    let p = parse_der(&FileCtx::new("x.cer"), &more);
    assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (1, 0, 1));
    assert_eq!(props(&p.events[0]).text("Thumbprint"), Some(LEAF_SHA1));
    // Not a certificate.
    for bad in [&b""[..], b"\x30\x82\x01\x00\x30\x82\x00\x10\xa0", b"hello"] {
        let p = parse_der(&FileCtx::new("x.cer"), bad);
        assert_eq!((p.parsed, p.rejected), (0, 1));
        assert_eq!(p.diagnostics[0].level, DiagLevel::Error);
    }
}

#[test]
fn corrupted_block_is_rejected_and_the_others_kept() {
    // An invalid base64 character in the first block, a truncated DER in the second.
    let bad_char = LEAF_PEM.replacen("MIIC+zCC", "MIIC!zCC", 1);
    let ca_lines: Vec<&str> = CA_PEM.lines().collect();
    let mut cut = ca_lines.clone();
    cut.remove(5);
    let truncated = cut.join("\n") + "\n";
    let text = format!("{bad_char}{truncated}{LEAF_PEM}-----BEGIN CERTIFICATE-----\nMIIC\n");
    let p = run(&text);
    assert_eq!((p.parsed, p.rejected), (1, 3), "{:?}", p.diagnostics);
    assert_eq!(props(&p.events[0]).text("Thumbprint"), Some(LEAF_SHA1));
    let lines: Vec<u64> = p.diagnostics.iter().map(|d| d.line).collect();
    assert_eq!(lines, vec![1, 19, 57]);
    assert!(p.diagnostics[0].message.contains("invalid base64"));
    assert!(p.diagnostics[1].message.contains("not a certificate"));
    assert!(p.diagnostics[2].message.contains("truncated"));
    assert_eq!(p.events[0].loc.record, 3);
}

#[test]
fn openssl_text_dump_followed_by_its_pem_is_one_record() {
    let p = run(LEAF_TEXT_PEM);
    assert_eq!((p.parsed, p.rejected), (1, 0));
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let pr = props(&p.events[0]);
    assert_leaf(pr);
    assert_eq!(pr.text("Thumbprint"), Some(LEAF_SHA1));
    assert_eq!(p.events[0].loc.line, 1);
}

#[test]
fn openssl_text_dump_alone() {
    // The dump of the leaf without its PEM: the same props, no thumbprint.
    let dump: String = LEAF_TEXT_PEM
        .lines()
        .take_while(|l| !l.starts_with("-----BEGIN"))
        .map(|l| format!("{l}\n"))
        .collect();
    let p = run(&dump);
    assert_eq!((p.parsed, p.rejected), (1, 0));
    let pr = props(&p.events[0]);
    assert_leaf(pr);
    assert_eq!(pr.text("Thumbprint"), None);
    // The CA dump with `-fingerprint -sha1`: thumbprint from the fingerprint line.
    let p = run(CA_TEXT_FP);
    assert_eq!((p.parsed, p.rejected), (1, 0));
    let ca = props(&p.events[0]);
    assert_eq!(ca.text("Thumbprint"), Some(CA_SHA1));
    assert_eq!(
        ca.text("SerialNumber"),
        Some("170B1D76E7AEFD42217CBC913FD1C5FCC7F774CB")
    );
    assert_eq!(ca.text("IsCA"), Some("True"));
    assert_eq!(ca.text("SelfSigned"), Some("True"));
    assert_eq!(ca.text("KeySize"), Some("2048"));
    assert_eq!(ca.text("CN"), Some("contoso test root ca"));
    // DER and text give the same props (but the thumbprint).
    let from_der = der_props(&leaf_der()).map(|(p, _)| p).unwrap_or_default();
    let mut a = from_der.0.clone();
    a.retain(|(k, _)| k != "Thumbprint");
    assert_eq!(a, pr.0);
}

#[test]
fn old_openssl_and_slash_name_forms() {
    let t = "Certificate:\n    Data:\n        Serial Number: 4096 (0x1000)\n        Issuer: /C=US/O=Contoso/CN=Contoso CA\n        Validity\n            Not Before: Jan  5 09:00:00 2015 GMT\n            Not After : whenever\n        Subject: C=US, O=Contoso\\, Inc, CN=EX01.contoso.local/emailAddress=a@b\n        X509v3 extensions:\n            X509v3 Subject Alternative Name: critical\n                DNS:EX01.contoso.local, email:a@b, IP Address:FE80:0:0:0:0:0:0:1\n";
    let p = run(t);
    assert_eq!((p.parsed, p.rejected), (1, 0));
    let pr = props(&p.events[0]);
    assert_eq!(pr.text("SerialNumber"), Some("1000"));
    assert_eq!(pr.text("Issuer"), Some("CN=Contoso CA, O=Contoso, C=US"));
    assert_eq!(pr.text("IssuerCN"), Some("Contoso CA"));
    assert_eq!(pr.text("NotBefore"), Some("2015-01-05T09:00:00Z"));
    assert_eq!(pr.text("NotAfter"), Some("whenever"));
    assert_eq!(san(pr), vec!["ex01.contoso.local", "fe80::1"]);
    assert_eq!(pr.text("CN"), Some("ex01.contoso.local/emailaddress=a@b"));
    assert_eq!(pr.text("IsCA"), Some("False"));
}

#[test]
fn not_a_certificate_rejects_once() {
    for t in [
        "",
        "Certificate:\n  nothing here\n",
        "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END X509 CRL-----\n",
        "just text",
    ] {
        let p = run(t);
        assert_eq!((p.parsed, p.rejected), (0, 1), "{t:?}: {:?}", p.diagnostics);
    }
    // A private key block is ignored with a warning and never echoed.
    let p = run("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n");
    assert_eq!((p.parsed, p.rejected), (0, 1));
    assert!(p
        .diagnostics
        .iter()
        .all(|d| !d.excerpt.as_deref().unwrap_or("").contains("MIGH")));
}

#[test]
fn base64_decoder() {
    assert_eq!(base64_decode("TWFu"), Some(b"Man".to_vec()));
    assert_eq!(base64_decode("TWE="), Some(b"Ma".to_vec()));
    assert_eq!(base64_decode("TQ=="), Some(b"M".to_vec()));
    assert_eq!(base64_decode("T Q\r\n"), Some(b"M".to_vec()));
    assert_eq!(base64_decode("TQ=x"), None);
    assert_eq!(base64_decode("T"), None);
    assert_eq!(base64_decode("T!"), None);
}

#[test]
fn random_texts_do_not_panic() {
    let tokens = [
        "-----BEGIN CERTIFICATE-----",
        "-----END CERTIFICATE-----",
        "Certificate:",
        "Subject: CN = x",
        "Serial Number:",
        "MIIC+zCC",
        "AAAA",
        "==",
        "\n",
        "\r\n",
        "sha1 Fingerprint=",
        "é",
        ":",
        ",",
    ];
    for t in crate::formats::exlog::tests::junk_texts(&tokens, 3000) {
        let p = run(&t);
        assert_eq!(p.parsed, p.events.len() as u64);
        assert!(p.parsed + p.rejected >= 1, "{t:?}");
    }
    let der = leaf_der();
    for n in 0..der.len() {
        let _ = parse_der(&FileCtx::new("x.cer"), der.get(..n).unwrap_or_default());
    }
}

#[test]
fn grammar_examples_parse_cleanly() {
    let md = include_str!("../../grammars/x509.md");
    let blocks = crate::formats::exlog::tests::grammar_examples(md);
    assert!(!blocks.is_empty());
    for b in &blocks {
        assert_eq!(
            crate::input::sniff::sniff_text(b, "example.txt"),
            Some(Format::X509)
        );
        let p = run(b);
        assert!(p.parsed >= 1 && p.rejected == 0, "{b}: {:?}", p.diagnostics);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    }
}
