//! Bad input never stops a run: each problem is a diagnostic naming the file (and line), is
//! counted in the summary, and the rest of the bundle is still classified.

use crate::util;
use imtriage::model::DiagLevel;
use std::io::Write;

#[test]
fn damaged_files_are_reported_and_the_rest_is_classified() {
    let tmp = std::env::temp_dir().join(format!("imtriage-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    // Start from a positive bundle, then add damage around it.
    let src = util::root().join("samples/owa-im-cert-invalid/positive");
    std::fs::create_dir_all(&tmp).expect("mkdir");
    for e in std::fs::read_dir(&src)
        .expect("read")
        .filter_map(Result::ok)
    {
        std::fs::copy(e.path(), tmp.join(e.file_name())).expect("copy");
    }
    // Binary junk with a .log name.
    let junk: Vec<u8> = (0..50_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(tmp.join("junk.log"), &junk).expect("write");
    // A truncated CLIXML capture.
    std::fs::write(
        tmp.join("MBX01_OwaVirtualDirectory.xml"),
        "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">\n  <Obj RefId=\"0\">\n    <TN RefId=\"0\"><T>Microsoft.Exchange.Data.Directory.SystemConfiguration.ADOwaVirtualDirectory</T></TN>\n    <Props>\n      <S N=\"InstantMessagingServerName\">pool01.con",
    )
    .expect("write");
    // An Exchange log with a malformed row (unterminated quote) and a 100 MB line.
    let mut log = std::fs::File::create(tmp.join("MBX01_EWS_20240501.log")).expect("create");
    write!(
        log,
        "#Software: Microsoft Exchange Server\r\n#Version: 15.01.2507.006\r\n#Log-type: EWS Logs\r\n#Date: 2024-05-01T09:00:00.000Z\r\n#Fields: DateTime,RequestId,AuthenticatedUser,ServerHostName,SoapAction,HttpStatus,ErrorCode\r\n2024-05-01T09:00:01.000Z,1,svc@contoso.com,MBX01,GetUserAvailability,200,\r\n2024-05-01T09:00:02.000Z,2,svc@contoso.com,MBX01,\""
    )
    .expect("write");
    log.write_all(&vec![b'x'; 100 << 20]).expect("write");
    drop(log);
    let r = util::analyze(&tmp);
    assert_eq!(
        util::finding_keys(&r),
        vec!["owa-im-cert-invalid@MBX01"],
        "the damage does not change the finding"
    );
    let junk_diag = r
        .diagnostics
        .iter()
        .find(|d| d.path.ends_with("junk.log"))
        .expect("junk reported");
    assert_eq!(junk_diag.level, DiagLevel::Warning);
    let clixml = r
        .diagnostics
        .iter()
        .find(|d| d.path.ends_with("MBX01_OwaVirtualDirectory.xml"))
        .expect("clixml reported");
    assert!(
        clixml.line > 0,
        "the truncated capture's diagnostic names a line: {clixml:?}"
    );
    let ews = r
        .diagnostics
        .iter()
        .find(|d| d.path.ends_with("MBX01_EWS_20240501.log") && d.level == DiagLevel::Error)
        .expect("bad row reported");
    assert_eq!(ews.line, 7, "{ews:?}");
    assert!(
        ews.excerpt.as_ref().is_some_and(|e| e.len() < 1000),
        "excerpts stay bounded"
    );
    assert_eq!(
        r.summary.records_rejected, 2,
        "one CLIXML object and one log row: {:?}",
        r.diagnostics
    );
    let log = r.summary.formats.get("exchange-log").expect("log counted");
    assert_eq!((log.records, log.rejected), (1, 1));
    assert_eq!(r.summary.files_skipped, 1, "junk.log");
    let _ = std::fs::remove_dir_all(&tmp);
}
