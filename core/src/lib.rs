pub mod canonical;
pub mod signing;
