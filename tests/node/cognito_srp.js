// SRP sign-in with amazon-cognito-identity-js (what Amplify v5 and many web apps use) against
// Aloft: authenticateUser → getUserAttributes → refreshSession. Prints one JSON line; driven by
// tests/test_cognito_node.py.
//
// usage: node cognito_srp.js ENDPOINT POOL_ID CLIENT_ID USERNAME PASSWORD
'use strict';

const {
  AuthenticationDetails,
  CognitoUser,
  CognitoUserPool,
} = require('amazon-cognito-identity-js');

const [endpoint, poolId, clientId, username, password] = process.argv.slice(2);

function done(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
}

const pool = new CognitoUserPool({ UserPoolId: poolId, ClientId: clientId, endpoint });
const user = new CognitoUser({ Username: username, Pool: pool });
const details = new AuthenticationDetails({ Username: username, Password: password });

user.authenticateUser(details, {
  onSuccess(session) {
    user.getUserAttributes((err, attributes) => {
      if (err) return done({ error: err.code || err.name, message: err.message, step: 'attributes' });
      user.refreshSession(session.getRefreshToken(), (err2, refreshed) => {
        if (err2) return done({ error: err2.code || err2.name, message: err2.message, step: 'refresh' });
        done({
          idToken: session.getIdToken().getJwtToken(),
          accessToken: session.getAccessToken().getJwtToken(),
          refreshedAccessToken: refreshed.getAccessToken().getJwtToken(),
          attributes: Object.fromEntries(attributes.map((a) => [a.getName(), a.getValue()])),
        });
      });
    });
  },
  onFailure(err) {
    done({ error: err.code || err.name, message: err.message });
  },
  newPasswordRequired() {
    done({ error: 'NEW_PASSWORD_REQUIRED' });
  },
});
