//! Configuration from the environment. One test, because it changes process-wide variables.

use smartai_events::{AssessmentClient, ErrorCode};

#[test]
fn environment_variables_fill_in_and_options_win() {
    // SAFETY: this test binary has a single test, so no other thread reads the environment.
    unsafe {
        std::env::remove_var("ASSESSMENT_API_KEY");
        std::env::remove_var("ASSESSMENT_SECRET_KEY");
        std::env::remove_var("ASSESSMENT_BASE_URL");
    }
    let err = AssessmentClient::from_env().unwrap_err();
    assert_eq!((err.code(), err.to_string().as_str()), (ErrorCode::Configuration, "Missing API key"));
    unsafe { std::env::set_var("ASSESSMENT_API_KEY", "wc_ak_test_fromenv1234") };
    let err = AssessmentClient::from_env().unwrap_err();
    assert_eq!(err.to_string(), "Missing secret key");
    unsafe { std::env::set_var("ASSESSMENT_SECRET_KEY", "wc_sk_test_fromenv") };

    let client = AssessmentClient::from_env().unwrap();
    assert_eq!(client.config().base_url().as_str(), "https://platform.smartai.app/");
    // An explicit empty key is refused, not replaced by the environment's key.
    for (builder, what, var) in [
        (AssessmentClient::builder().api_key(""), "API key", "ASSESSMENT_API_KEY"),
        (AssessmentClient::builder().secret_key(" "), "secret key", "ASSESSMENT_SECRET_KEY"),
    ] {
        let err = builder.build().unwrap_err();
        assert_eq!(err.code(), ErrorCode::Configuration);
        let expected = format!("the {what} given is empty; pass the key, or leave the option out to read {var}");
        assert_eq!(err.to_string(), expected);
    }
    assert_eq!(client.environment().as_str(), "test");
    assert_eq!(client.config().api_key_masked(), "wc_ak_test_…1234");

    unsafe { std::env::set_var("ASSESSMENT_BASE_URL", "http://example.com") };
    let err = AssessmentClient::from_env().unwrap_err();
    assert_eq!(err.code(), ErrorCode::Configuration);
    assert!(err.to_string().contains("insecure"), "{err}");

    let client = AssessmentClient::builder()
        .api_key("wc_ak_live_option5678")
        .base_url("https://eu.example.com/prefix")
        .build()
        .unwrap();
    assert_eq!(client.environment().as_str(), "live", "the option wins over the environment");
    assert_eq!(client.config().base_url().as_str(), "https://eu.example.com/prefix");
    unsafe {
        std::env::remove_var("ASSESSMENT_API_KEY");
        std::env::remove_var("ASSESSMENT_SECRET_KEY");
        std::env::remove_var("ASSESSMENT_BASE_URL");
    }
}
