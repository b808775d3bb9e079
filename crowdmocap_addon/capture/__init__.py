"""The sidebar panel's capture flow: settings, the Capture/Cancel/Check operators, the panel itself."""
