#[tokio::test]
async fn scenarios() {}
