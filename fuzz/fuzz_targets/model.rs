#![no_main]
//! Any text given to the model reader: an error or a consistent model, never a panic.

use imgcluster::model::Model;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(model) = Model::from_json(text) {
            // A model that loads writes back to JSON that loads again.
            let again = Model::from_json(&model.to_json()).expect("round trip");
            assert_eq!(again.to_json(), model.to_json());
        }
    }
});
